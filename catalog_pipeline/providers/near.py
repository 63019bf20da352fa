"""NEAR AI Cloud: public `GET /model/list?limit=100&offset=0`, paged by offset until `total` is
reached. Prices are `{amount, scale, currency}` = amount x 10^-scale USD per token; the server
(nearai/cloud-api) sends scale 9, nano-USD: `{"amount": 150, "scale": 9}` = 0.15 USD per 1M tokens.

`costPerImage` is sent for every model; a 0 there on a model without image output is stored as
unknown, not free. Unverified: no captured body exists; the shape comes from the server's source
(nearai/cloud-api). `textPricing` (tiered prices) is kept in metadata only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from catalog_pipeline.pipeline.entry import object_field
from catalog_pipeline.pipeline.http import FetchedPage
from catalog_pipeline.pipeline.modalities import feature_flags, flag_in, modality_fields, string_list
from catalog_pipeline.pipeline.money import parse_price, scaled
from catalog_pipeline.pipeline.records import ModelRecord, SkipModel
from catalog_pipeline.pipeline.spec import ProviderSpec

_LIMIT = 100
_METADATA_KEYS = (
    "ownedBy", "providerType", "verifiable", "attestationSupported", "aliases", "huggingFaceId",
    "quantization", "supportedSamplingParameters", "datacenters", "modelIcon",
)


def _next_page(page: FetchedPage, params: dict[str, Any]):
    payload = page.payload if isinstance(page.payload, dict) else {}
    models, total = payload.get("models"), payload.get("total")
    if not isinstance(models, list) or not models:
        return None
    offset = int(params.get("offset", 0)) + len(models)
    # `total` is the catalog size; without it, a short page is the last one.
    done = offset >= total if _is_int(total) else len(models) < _LIMIT
    return None if done else (page.url.split("?", 1)[0], {**params, "offset": offset})


SPEC = ProviderSpec(
    slug="near",
    name="NEAR AI Cloud",
    base_url="https://cloud-api.near.ai/v1",
    kind="text",
    key_required=False,
    price_unit="{amount, scale, currency}: amount x 10^-scale USD per token (scale 9)",
    endpoint_path="/model/list",
    endpoint_query={"limit": _LIMIT, "offset": 0},
    paging=_next_page,
    endpoint_note="offset paging up to total",
    list_path=("models",),
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _price(entry: dict[str, Any], key: str) -> Decimal | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SkipModel(f"{key}: expected {{amount, scale, currency}}, got {type(value).__name__}")
    amount, scale, currency = value.get("amount"), value.get("scale"), value.get("currency")
    if not _is_int(amount) or not _is_int(scale):
        raise SkipModel(f"{key}: amount and scale must be integers, got {amount!r} and {scale!r}")
    if currency != "USD":
        raise SkipModel(f"{key}: currency {currency!r} is not USD")
    # NEAR quotes amount x 10^-scale USD per token (scale 9 = nano-USD per token).
    return scaled(parse_price(amount, field=f"{key}.amount"), -scale)


def _image_price(entry: dict[str, Any], outputs: list[str] | None) -> Decimal | None:
    price = _price(entry, "costPerImage")
    # The server sends costPerImage on every model; 0 on a model that makes no images is "n/a".
    if price == 0 and not flag_in(outputs, "image"):
        return None
    return price


def transform(entry: dict[str, Any]) -> ModelRecord:
    details = object_field(entry, "metadata")
    architecture = object_field(details, "architecture", label="metadata.architecture")
    inputs = string_list(architecture.get("inputModalities"))
    outputs = string_list(architecture.get("outputModalities"))
    features = string_list(details.get("supportedFeatures"))
    return ModelRecord(
        provider_model_id=entry["modelId"],
        model_name=details.get("modelDisplayName"),
        description=details.get("modelDescription"),
        pricing_prompt=_price(entry, "inputCostPerToken"),
        pricing_completion=_price(entry, "outputCostPerToken"),
        pricing_cache_read=_price(entry, "cacheReadCostPerToken"),
        pricing_image=_image_price(entry, outputs),
        context_length=details.get("contextLength"),
        max_output_tokens=details.get("maxOutputLength"),
        **modality_fields(inputs, outputs),
        **feature_flags(features),
        metadata={key: details[key] for key in _METADATA_KEYS if key in details}
        | ({"supportedFeatures": features} if features is not None else {})
        | ({"textPricing": entry["textPricing"]} if entry.get("textPricing") is not None else {}),
    )
