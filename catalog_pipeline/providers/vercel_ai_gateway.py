"""Vercel AI Gateway: public `GET /models`, `{"object": "list", "data": [...]}`, prices as decimal
strings in USD per token (`pricing.input/output/input_cache_read/input_cache_write`) and USD per
image (`pricing.image`). `pricing` may be `{}`; long-context `*_tiers` and model-specific meters
(web search, per-second transcription ...) are kept in metadata, not in a column.

`deprecated_at` is kept in metadata and as `deprecation_date`, and does not deactivate the row:
the gateway keeps serving a model until it leaves the list. Unverified: `modalities`, `supported_parameters` and the keys of
image/video pricing (seen only in write-ups; the 2026-07 capture holds two language models).
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.entry import object_field
from catalog_pipeline.pipeline.lifecycle import lifecycle_date
from catalog_pipeline.pipeline.modalities import feature_flags, flag_in, modality_fields, string_list
from catalog_pipeline.pipeline.money import per_token
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="vercel-ai-gateway",
    name="Vercel AI Gateway",
    base_url="https://ai-gateway.vercel.sh/v1",
    kind="image",
    key_required=False,
    price_unit="USD per token (per image for pricing.image), decimal strings",
)

_COLUMN_PRICES = {"input", "output", "input_cache_read", "input_cache_write", "image"}
_MEDIA_TYPES = {"image", "video"}
_METADATA_KEYS = ("type", "owned_by", "created", "released", "tags", "deprecated_at", "supported_parameters")


def _price_unit(pricing: dict[str, Any]) -> str | None:
    if pricing.get("image") is not None:
        return "image"
    return "token" if pricing.get("input") is not None or pricing.get("output") is not None else None


def transform(entry: dict[str, Any]) -> ModelRecord:
    pricing = object_field(entry, "pricing")
    modalities = object_field(entry, "modalities")
    inputs = string_list(modalities.get("input"))
    outputs = string_list(modalities.get("output"))
    tags = string_list(entry.get("tags"))
    metadata = {key: entry[key] for key in _METADATA_KEYS if key in entry}
    metadata["pricing_other"] = {k: v for k, v in pricing.items() if k not in _COLUMN_PRICES}
    if entry.get("type") in _MEDIA_TYPES:
        metadata["price_unit"] = _price_unit(pricing)
    return ModelRecord(
        provider_model_id=entry["id"],
        model_name=entry.get("name"),
        description=entry.get("description"),
        # Vercel quotes USD per token.
        pricing_prompt=per_token(pricing.get("input"), field="pricing.input"),
        pricing_completion=per_token(pricing.get("output"), field="pricing.output"),
        pricing_cache_read=per_token(pricing.get("input_cache_read"), field="pricing.input_cache_read"),
        pricing_cache_write=per_token(pricing.get("input_cache_write"), field="pricing.input_cache_write"),
        # Vercel quotes pricing.image in USD per image.
        pricing_image=per_token(pricing.get("image"), field="pricing.image"),
        # 0 means "not applicable" here (image/video models); the pipeline stores it as unknown.
        context_length=entry.get("context_window"),
        max_output_tokens=entry.get("max_tokens"),
        **modality_fields(inputs, outputs, vision_hint=flag_in(tags, "vision")),
        **feature_flags(tags),
        deprecation_date=lifecycle_date(entry.get("deprecated_at"), field="deprecated_at"),
        metadata=metadata,
    )
