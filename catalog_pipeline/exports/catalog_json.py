"""The catalog's own export: providers, models and offers grouped by canonical model.

    {"format": "model-catalog-sync/catalog", "version": 1, "generated_at": ISO time,
     "price_unit": "USD per token (pricing.image: per image, pricing.request: per request)",
     "providers": [{"slug", "name", "base_url", "kind", "last_synced_at"}],
     "models": [{"provider", "model", "name", "canonical_model", "match_method", "match_confidence",
                 "pricing": {"prompt", "completion", "cache_read", "cache_write", "image", "request"},
                 "price_source", "price_observed_at", "context_length", "max_output_tokens",
                 "input_modalities", "output_modalities", "supports": {"streaming", "function_calling",
                 "vision", "reasoning"}}],
     "canonical_models": [{"slug", "hf_id", "offers": [{"provider", "model"}, ...cheapest first]}]}

An unknown value is JSON null (or absent from `pricing`), never 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from decimal import Decimal
from functools import lru_cache
from json.encoder import encode_basestring_ascii as _spelled_string
from typing import Any

from catalog_pipeline.db.offers import blended_price, cheapest_first_key, offer_sort_key
from catalog_pipeline.pipeline.money import to_fixed_point

FORMAT = "model-catalog-sync/catalog"
VERSION = 1
PRICES = ("prompt", "completion", "cache_read", "cache_write", "image", "request")
FLAGS = ("streaming", "function_calling", "vision", "reasoning")
_PRICE_COLUMNS = tuple((p, f"pricing_{p}") for p in PRICES)
_FLAG_COLUMNS = tuple((flag, f"supports_{flag}") for flag in FLAGS)


@lru_cache(maxsize=4096)  # one fetch time per provider run: the same few moments on every row
def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def model_entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "provider": row["provider"],
        "model": row["provider_model_id"],
        "name": row["model_name"],
        "canonical_model": row["canonical_model"],
        "match_method": row["match_method"],
        "match_confidence": row["match_confidence"],
        "pricing": {p: row[column] for p, column in _PRICE_COLUMNS if row[column] is not None},
        "price_source": row["price_source"],
        "price_observed_at": _iso(row["price_observed_at"]),
        "context_length": row["context_length"],
        "max_output_tokens": row["max_output_tokens"],
        "input_modalities": row["input_modalities"],
        "output_modalities": row["output_modalities"],
        "supports": {flag: row[column] for flag, column in _FLAG_COLUMNS},
    }


def provider_entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": row["provider"], "name": row["provider_name"], "base_url": row["base_url"],
        "kind": row["kind"], "last_synced_at": _iso(row["last_synced_at"]),
    }


def offer_of(row: dict[str, Any]) -> dict[str, Any]:
    """What the `canonical_models` list needs of a linked row: who sells it, and its sort prices."""
    return {"provider": row["provider"], "model": row["provider_model_id"],
            "pricing_prompt": row["pricing_prompt"], "pricing_completion": row["pricing_completion"]}


def canonical_section(offers_by_slug: dict[str, list[dict[str, Any]]], hf_ids: dict[str, str | None]) -> list[dict[str, Any]]:
    return [
        {"slug": slug, "hf_id": hf_ids[slug],
         "offers": [{"provider": o["provider"], "model": o["model"]} for o in _cheapest_first(offers_by_slug[slug])]}
        for slug in sorted(offers_by_slug)
    ]


def offer_line(row: dict[str, Any]) -> list[str | None]:
    """A linked row's offer as the export's parts keep it: its canonical model, its sort price
    (`offer_sort_key`'s blended price, as exact text; None: unknown, sorted last), provider, model."""
    return [row["canonical_model"], to_fixed_point(blended_price(row["pricing_prompt"], row["pricing_completion"])),
            row["provider"], row["provider_model_id"]]


def canonical_section_text(lines: Iterable[list[str | None]], hf_ids_of) -> str:
    """`dumps_compact(canonical_section(...))` of the offers in `lines` (`offer_line`s), byte for
    byte, without a dict per offer: each string is spelled by the json module's C encoder, as
    json.dumps spells it. `hf_ids_of(slugs)` gives the Hugging Face id of each canonical model."""
    by_slug: dict[str, list[tuple[str | None, str, str]]] = {}
    for canonical, blended, provider, model in lines:
        by_slug.setdefault(canonical, []).append((blended, provider, model))
    hf_ids = hf_ids_of(by_slug)
    entries = []
    for slug in sorted(by_slug):
        offers = by_slug[slug]
        if len(offers) > 1:
            offers.sort(key=_line_sort_key)
        hf_id = hf_ids[slug]
        spelled_offers = ",".join(
            f'{{"provider":{_spelled_string(provider)},"model":{_spelled_string(model)}}}' for _, provider, model in offers
        )
        entries.append(f'{{"slug":{_spelled_string(slug)},"hf_id":{"null" if hf_id is None else _spelled_string(hf_id)},'
                       f'"offers":[{spelled_offers}]}}')
    return f"[{','.join(entries)}]"


def _line_sort_key(offer: tuple[str | None, str, str]) -> tuple:
    blended, provider, model = offer
    return cheapest_first_key(None if blended is None else Decimal(blended), provider, model)


def _cheapest_first(offers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Most canonical models have one offer: no sort key (Decimal arithmetic) to compute.
    return offers if len(offers) < 2 else sorted(offers, key=offer_sort_key)


def header(providers: list[dict[str, Any]]) -> dict[str, Any]:
    """The document up to its `providers` list; `models` and `canonical_models` follow."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": datetime.now(timezone.utc).isoformat(),
        "price_unit": "USD per token (pricing.image: per image, pricing.request: per request)",
        "providers": sorted(providers, key=lambda p: p["slug"]),
    }


def build(rows: list[dict[str, Any]]) -> dict[str, Any]:
    providers: dict[str, dict[str, Any]] = {}
    offers: dict[str, list[dict[str, Any]]] = {}
    hf_ids: dict[str, str | None] = {}
    for row in rows:
        if row["provider"] not in providers:
            providers[row["provider"]] = provider_entry(row)
        if row["canonical_model"]:
            offers.setdefault(row["canonical_model"], []).append(offer_of(row))
            hf_ids.setdefault(row["canonical_model"], row["hf_id"])
    return {
        **header(list(providers.values())),
        "models": [model_entry(row) for row in rows],
        "canonical_models": canonical_section(offers, hf_ids),
    }
