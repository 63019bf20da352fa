"""OpenRouter: `GET /models?output_modalities=all`, public, prices as USD-per-token strings.

Unverified: `links.next` paging (seen only in the 2026 TypeScript SDK docs); followed when present.
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.http import FetchedPage, ProviderHttp
from catalog_pipeline.pipeline.lifecycle import lifecycle_date
from catalog_pipeline.pipeline.modalities import flag_in, modality_of, string_list
from catalog_pipeline.pipeline.money import parse_price
from catalog_pipeline.pipeline.paging import by_next_link, fetch_pages
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="openrouter",
    name="OpenRouter",
    base_url="https://openrouter.ai/api/v1",
    kind="text",
    key_required=False,
    endpoint="GET /models?output_modalities=all (follows links.next)",
    price_unit="USD per token, decimal strings; \"-1\" = variable",
    unverified="links.next paging",
)

_MAPPED = {"id", "name", "description", "context_length", "architecture", "pricing", "top_provider"}


def fetch(http: ProviderHttp) -> list[FetchedPage]:
    # Without output_modalities=all the list holds only text-output models.
    return fetch_pages(http, "/models", {"output_modalities": "all"}, by_next_link(_next_link))


def _next_link(payload: dict[str, Any]) -> Any:
    links = payload.get("links")
    return links.get("next") if isinstance(links, dict) else None


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
        modality=architecture.get("modality") or modality_of(inputs, outputs),
        input_modalities=inputs,
        output_modalities=outputs,
        # OpenRouter streams every chat model; it has no flag for it.
        supports_streaming=True if outputs and "text" in outputs else None,
        supports_function_calling=flag_in(parameters, "tools"),
        supports_vision=flag_in(inputs, "image"),
        supports_reasoning=flag_in(parameters, "reasoning", "include_reasoning"),
        expiration_date=lifecycle_date(entry.get("expiration_date"), field="expiration_date"),
        metadata={key: value for key, value in entry.items() if key not in _MAPPED}
        | {"pricing_other": {k: v for k, v in pricing.items() if k not in _PRICE_KEYS}},
    )


_PRICE_KEYS = {"prompt", "completion", "image", "request", "input_cache_read", "input_cache_write"}
