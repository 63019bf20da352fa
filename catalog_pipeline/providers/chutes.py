"""Chutes: public OpenAI-style `GET /models` on llm.chutes.ai, prices as JSON numbers in USD per 1M
tokens (checked against the 2026-07 real list: Qwen3-32B prompt 0.104 = 0.104 USD per 1M tokens).

The nested `price.{input,output,...}.{usd,tao}` dicts repeat the same prices and are ignored.
Some entries carry only `id`, `root`, `max_model_len` and prices, so context falls back to
`max_model_len` and modalities/features stay unknown. Unverified: nothing beyond the one sample.
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.entry import object_field
from catalog_pipeline.pipeline.modalities import feature_flags, modality_fields, string_list
from catalog_pipeline.pipeline.money import per_million_tokens
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="chutes",
    name="Chutes",
    base_url="https://llm.chutes.ai/v1",
    kind="text",
    key_required=False,
    price_unit="USD per 1M tokens, JSON numbers",
)

_METADATA_KEYS = (
    "root", "owned_by", "chute_id", "confidential_compute", "quantization", "supported_sampling_parameters",
)


def transform(entry: dict[str, Any]) -> ModelRecord:
    pricing = object_field(entry, "pricing")
    inputs = string_list(entry.get("input_modalities"))
    outputs = string_list(entry.get("output_modalities"))
    features = string_list(entry.get("supported_features"))
    return ModelRecord(
        provider_model_id=entry["id"],
        # Chutes quotes USD per 1M tokens.
        pricing_prompt=per_million_tokens(pricing.get("prompt"), field="pricing.prompt"),
        pricing_completion=per_million_tokens(pricing.get("completion"), field="pricing.completion"),
        pricing_cache_read=per_million_tokens(pricing.get("input_cache_read"), field="pricing.input_cache_read"),
        # `context_length` is missing on the sparse entries; `max_model_len` is always sent.
        context_length=entry.get("context_length") or entry.get("max_model_len"),
        max_output_tokens=entry.get("max_output_length"),
        **modality_fields(inputs, outputs),
        **feature_flags(features),
        metadata={key: entry[key] for key in _METADATA_KEYS if key in entry}
        | ({"supported_features": features} if features is not None else {}),
    )
