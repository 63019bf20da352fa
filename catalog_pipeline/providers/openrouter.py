"""OpenRouter: `GET /models?output_modalities=all`, public, prices as USD-per-token strings.

Unverified: `links.next` paging (seen only in the 2026 TypeScript SDK docs); followed when present.
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.lifecycle import lifecycle_date
from catalog_pipeline.pipeline.modalities import feature_flags, modality_fields, string_list
from catalog_pipeline.pipeline.money import parse_price
from catalog_pipeline.pipeline.paging import by_next_link
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

def _next_link(payload: dict[str, Any]) -> Any:
    links = payload.get("links")
    return links.get("next") if isinstance(links, dict) else None


SPEC = ProviderSpec(
    slug="openrouter",
    name="OpenRouter",
    base_url="https://openrouter.ai/api/v1",
    kind="text",
    key_required=False,
    price_unit="USD per token, decimal strings; \"-1\" = variable",
    # Without output_modalities=all the list holds only text-output models.
    endpoint_query={"output_modalities": "all"},
    paging=by_next_link(_next_link),
    endpoint_note="follows links.next",
)

_MAPPED = {"id", "name", "description", "context_length", "architecture", "pricing", "top_provider"}


def _price(pricing: dict[str, Any], key: str):
    value = pricing.get(key)
    # "-1" means "variable, priced by the routed model": unknown, not negative.
    if isinstance(value, str) and value.strip() == "-1":
        return None
    return parse_price(value, field=f"pricing.{key}")  # already USD per token


def transform(entry: dict[str, Any]) -> ModelRecord:
    architecture = entry.get("architecture") or {}
    pricing = entry.get("pricing") or {}
    top_provider = entry.get("top_provider") or {}
    inputs = string_list(architecture.get("input_modalities"))
    outputs = string_list(architecture.get("output_modalities"))
    parameters = string_list(entry.get("supported_parameters"))
    return ModelRecord(
        provider_model_id=entry["id"],
        model_name=entry.get("name"),
        description=entry.get("description"),
        pricing_prompt=_price(pricing, "prompt"),
        pricing_completion=_price(pricing, "completion"),
        pricing_image=_price(pricing, "image"),
        pricing_request=_price(pricing, "request"),
        pricing_cache_read=_price(pricing, "input_cache_read"),
        pricing_cache_write=_price(pricing, "input_cache_write"),
        context_length=entry.get("context_length") or top_provider.get("context_length"),
        max_output_tokens=top_provider.get("max_completion_tokens"),
        **modality_fields(inputs, outputs, stated=architecture.get("modality")),
        **feature_flags(parameters),
        # OpenRouter streams every chat model; it has no flag for it.
        supports_streaming=True if outputs and "text" in outputs else None,
        expiration_date=lifecycle_date(entry.get("expiration_date"), field="expiration_date"),
        metadata={key: value for key, value in entry.items() if key not in _MAPPED}
        | {"pricing_other": {k: v for k, v in pricing.items() if k not in _PRICE_KEYS}},
    )


_PRICE_KEYS = {"prompt", "completion", "image", "request", "input_cache_read", "input_cache_write"}
