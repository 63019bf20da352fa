"""AiHubMix: `GET /models` under /api/v1 (the rich list, not the OpenAI-style /v1/models), no auth.

Entries use `model_id` (not `id`) and comma strings for `features` / `input_modalities`. The docs
say prices are per 1K tokens, but the docs' own example gives GPT-5 `input 1.25` / `output 10`,
OpenAI's per-1M list prices, so they are read as USD per 1M tokens (as catwalk does). Only
`llm` and `embedding` entries are converted as token prices; image, video, audio and rerank
entries keep their `pricing` unconverted in metadata because their unit is undocumented.
Unverified: the per-1M reading beyond the docs example, and every non-token unit.
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.entry import object_field
from catalog_pipeline.pipeline.modalities import feature_flags, modality_fields, string_list
from catalog_pipeline.pipeline.money import per_million_tokens
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="aihubmix",
    name="AiHubMix",
    base_url="https://aihubmix.com/api/v1",
    kind="text",
    key_required=False,
    price_unit="USD per 1M tokens, JSON numbers (docs wrongly say per 1K)",
)

_TOKEN_PRICED_TYPES = {"llm", "embedding"}
# No `type` filter on the list: image/video/audio models are listed too, as rows without token prices.
_OUTPUTS = {"llm": ["text"], "image_generation": ["image"], "video": ["video"], "tts": ["audio"], "stt": ["text"]}


def transform(entry: dict[str, Any]) -> ModelRecord:
    pricing = object_field(entry, "pricing")
    kind = entry.get("types")
    token_priced = kind in _TOKEN_PRICED_TYPES
    tokens = pricing if token_priced else {}
    inputs = string_list(entry.get("input_modalities"))
    outputs = _OUTPUTS.get(kind)
    features = string_list(entry.get("features"))
    return ModelRecord(
        provider_model_id=entry["model_id"],
        model_name=entry.get("model_name"),
        description=entry.get("desc"),
        # AiHubMix quotes USD per 1M tokens (GPT-5 input 1.25 in its docs example).
        pricing_prompt=per_million_tokens(tokens.get("input"), field="pricing.input"),
        pricing_completion=per_million_tokens(tokens.get("output"), field="pricing.output"),
        pricing_cache_read=per_million_tokens(tokens.get("cache_read"), field="pricing.cache_read"),
        pricing_cache_write=per_million_tokens(tokens.get("cache_write"), field="pricing.cache_write"),
        context_length=entry.get("context_length"),
        max_output_tokens=entry.get("max_output"),
        **modality_fields(inputs, outputs),
        **feature_flags(features),
        metadata={"types": kind, "features": features}
        | ({} if token_priced or not pricing else {"pricing_unconverted": pricing, "price_unit": "unknown"}),
    )
