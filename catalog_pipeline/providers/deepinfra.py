"""DeepInfra: OpenAI-style `GET /models` under /v1/openai, prices in USD per 1M tokens.

Entries with `"metadata": null` (image, audio, embedding models) carry no price or context and
are stored with NULLs. No display name, tool flag or deprecation field in this list.
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.modalities import REASONING_WORDS, flag_in, modality_fields, string_list, text_inputs
from catalog_pipeline.pipeline.money import per_million_tokens
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="deepinfra",
    name="DeepInfra",
    base_url="https://api.deepinfra.com/v1/openai",
    kind="text",
    key_required=True,
    price_unit="USD per 1M tokens, JSON numbers",
)


def transform(entry: dict[str, Any]) -> ModelRecord:
    details = entry.get("metadata")
    if details is None:
        return ModelRecord(provider_model_id=entry["id"], metadata={"owned_by": entry.get("owned_by")})
    if not isinstance(details, dict):
        raise TypeError(f"metadata is {type(details).__name__}, expected an object or null")
    pricing = details.get("pricing") or {}
    tags = string_list(details.get("tags")) or []
    return ModelRecord(
        provider_model_id=entry["id"],
        description=details.get("description"),
        # DeepInfra's OpenAI list quotes USD per 1M tokens.
        pricing_prompt=per_million_tokens(pricing.get("input_tokens"), field="pricing.input_tokens"),
        pricing_completion=per_million_tokens(pricing.get("output_tokens"), field="pricing.output_tokens"),
        pricing_cache_read=per_million_tokens(pricing.get("cache_read_tokens"), field="pricing.cache_read_tokens"),
        context_length=details.get("context_length"),
        max_output_tokens=details.get("max_tokens"),
        **modality_fields(text_inputs("vision" in tags), ["text"]),
        # The tags never name tools, so only reasoning is read from them.
        supports_reasoning=flag_in(tags, *REASONING_WORDS),
        metadata={"tags": tags, "owned_by": entry.get("owned_by"), "root": entry.get("root")},
    )
