"""fal.ai: `GET /models?limit=100` (cursor paging via `next_cursor`/`has_more`), then
`GET /models/pricing?endpoint_id=a,b,...` for 50 ids per call; auth is `Authorization: Key <key>`.
Prices are `{unit_price, unit, currency}` in USD per billing unit, which varies per model: a per-image
price goes to pricing_image, a per-request/per-video price to pricing_request, and any other unit
(megapixels, seconds, credits ...) only to metadata `unit_price` + `price_unit`.

Unverified: no real body was ever published; the shapes come from fal's docs and OpenAPI. The exact
set of `unit` spellings is unknown, so unrecognised units are never put in a pricing column.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from catalog_pipeline.pipeline.entry import object_field
from catalog_pipeline.pipeline.http import FetchedPage, ProviderHttp
from catalog_pipeline.pipeline.listing import fetch_declared_list
from catalog_pipeline.pipeline.modalities import health_status, modality_fields
from catalog_pipeline.pipeline.money import parse_price, to_fixed_point
from catalog_pipeline.pipeline.normalize import Pages, extract_entries
from catalog_pipeline.pipeline.paging import by_cursor, fetch_pages
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

def _cursor(payload: dict[str, Any]) -> Any:
    return payload.get("next_cursor") if payload.get("has_more", True) else None


SPEC = ProviderSpec(
    slug="fal",
    name="fal.ai",
    base_url="https://api.fal.ai/v1",
    kind="image",
    key_required=True,
    price_unit="USD per billing unit (image, megapixels, seconds, video, ...)",
    endpoint_query={"limit": 100},
    paging=by_cursor(_cursor, "cursor"),
    endpoint_note="cursor paging; then GET /models/pricing?endpoint_id=<50 ids>, cursor paging",
    list_path=("models",),
    auth_scheme="Key",
)

_PRICING_PATH = "/models/pricing"
_PRICING_BATCH = 50  # the pricing endpoint takes 1 to 50 endpoint ids per call
_PER_IMAGE = {"image", "images"}
_PER_REQUEST = {"request", "requests", "call", "calls", "video", "videos"}
# fal's categories say "speech" where the catalog's modality vocabulary says "audio".
_MODALITY_WORDS = {"speech": "audio"}
_PRICE_KEY = "_fal_price"  # where entries() attaches the joined price to a model entry


def fetch(http: ProviderHttp) -> list[FetchedPage]:
    pages = fetch_declared_list(SPEC, http)
    ids = [
        model["endpoint_id"] for model in _models(_pairs(pages))
        if isinstance(model, dict) and isinstance(model.get("endpoint_id"), str)
    ]
    for start in range(0, len(ids), _PRICING_BATCH):
        batch = ",".join(ids[start:start + _PRICING_BATCH])
        pages += fetch_pages(http, _PRICING_PATH, {"endpoint_id": batch}, SPEC.paging)
    return pages


def _pairs(pages: list[FetchedPage]) -> Pages:
    return [(page.url, page.payload) for page in pages]


def _is_pricing(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").endswith(_PRICING_PATH)


def _models(pages: Pages) -> list[Any]:
    models: list[Any] = []
    for url, payload in pages:
        if not _is_pricing(url):
            models.extend(extract_entries(payload, SPEC.list_path, url=url))
    return models


def entries(pages: Pages) -> list[Any]:
    """Model entries from the list pages, each joined with its price from the pricing pages."""
    prices: dict[str, Any] = {}
    for url, payload in pages:
        if _is_pricing(url):
            for price in extract_entries(payload, ("prices",), url=url):
                if isinstance(price, dict) and isinstance(price.get("endpoint_id"), str):
                    prices.setdefault(price["endpoint_id"], price)
    return [
        {**model, _PRICE_KEY: prices.get(model.get("endpoint_id"))} if isinstance(model, dict) else model
        for model in _models(pages)
    ]


def _io_of(category: Any) -> tuple[list[str] | None, list[str] | None]:
    """`text-to-image` -> (["text"], ["image"]); categories without `-to-` (llm, training) -> unknown."""
    if not isinstance(category, str) or "-to-" not in category:
        return None, None
    source, _, target = category.partition("-to-")
    return [_MODALITY_WORDS.get(source, source)], [_MODALITY_WORDS.get(target, target)]


def _pricing_fields(price: Any) -> dict[str, Any]:
    """Columns and metadata for one `{unit_price, unit, currency}` price (None = not priced)."""
    if price is None:
        return {"metadata": {"price_unit": None}}
    if not isinstance(price, dict):
        raise TypeError(f"price is {type(price).__name__}, expected an object")
    unit, currency = price.get("unit"), price.get("currency") or "USD"
    # fal quotes USD per billing unit; the unit says which column, if any, it belongs in.
    amount: Decimal | None = parse_price(price.get("unit_price"), field="unit_price")
    metadata = {"price_unit": unit, "unit_price": to_fixed_point(amount), "currency": currency}
    if amount is None or currency != "USD":
        return {"metadata": metadata}
    if unit in _PER_IMAGE:
        return {"pricing_image": amount, "metadata": metadata}
    if unit in _PER_REQUEST:
        return {"pricing_request": amount, "metadata": metadata}
    return {"metadata": metadata}


def transform(entry: dict[str, Any]) -> ModelRecord:
    details = object_field(entry, "metadata")
    pricing = _pricing_fields(entry.get(_PRICE_KEY))
    inputs, outputs = _io_of(details.get("category"))
    status = details.get("status")
    return ModelRecord(
        provider_model_id=entry["endpoint_id"],
        model_name=details.get("display_name"),
        description=details.get("description"),
        pricing_image=pricing.get("pricing_image"),
        pricing_request=pricing.get("pricing_request"),
        **modality_fields(inputs, outputs),
        is_active=status != "deprecated",
        health_status=health_status(status),
        metadata=pricing["metadata"]
        | {key: details[key] for key in ("category", "status", "tags", "model_url") if key in details},
    )
