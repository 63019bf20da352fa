"""Nebius Token Factory: `GET /models?verbose=true`, Bearer key, prices as USD-per-token strings.

Without `verbose=true` the list is bare OpenAI (ids only). The verbose prices are already USD
per token (catwalk multiplies them by 1e6 to show per 1M), so they are not divided again.
Unverified (no real body published): `supported_features`, `quantization`, `regions`, `status`
and whether `pricing.image` / `pricing.request` are ever populated; all read only when present.
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.modalities import feature_flags, modality_fields, string_list
from catalog_pipeline.pipeline.money import per_token
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="nebius",
    name="Nebius Token Factory",
    base_url="https://api.tokenfactory.nebius.com/v1",
    kind="text",
    key_required=True,
    price_unit="USD per token, decimal strings",
    # verbose=true is what adds prices, context and features to the plain OpenAI list.
    endpoint_query={"verbose": "true"},
)

_KEPT = ("owned_by", "created", "quantization", "regions", "status", "supported_sampling_parameters")


def _sides(modality: Any) -> tuple[list[str] | None, list[str] | None]:
    """`"text+image->text"` -> (["text", "image"], ["text"]); anything else -> unknown."""
    if not isinstance(modality, str) or "->" not in modality:
        return None, None
    inputs, outputs = modality.split("->", 1)
    return string_list(inputs.replace("+", ",")), string_list(outputs.replace("+", ","))


def transform(entry: dict[str, Any]) -> ModelRecord:
    architecture = entry.get("architecture") or {}
    pricing = entry.get("pricing") or {}
    if not isinstance(architecture, dict) or not isinstance(pricing, dict):
        raise TypeError("architecture and pricing must be objects")
    inputs, outputs = _sides(architecture.get("modality"))
    features = string_list(entry.get("supported_features"))
    return ModelRecord(
        provider_model_id=entry["id"],
        model_name=entry.get("name"),
        description=entry.get("description"),
        # Nebius (verbose list) quotes USD per token as decimal strings.
        pricing_prompt=per_token(pricing.get("prompt"), field="pricing.prompt"),
        pricing_completion=per_token(pricing.get("completion"), field="pricing.completion"),
        # Nebius mirrors OpenRouter's pricing object: USD per image / per request (unverified).
        pricing_image=per_token(pricing.get("image"), field="pricing.image"),
        pricing_request=per_token(pricing.get("request"), field="pricing.request"),
        context_length=entry.get("context_length"),
        **modality_fields(inputs, outputs),
        **feature_flags(features),
        metadata={key: entry[key] for key in _KEPT if entry.get(key) is not None}
        | ({"supported_features": features} if features is not None else {}),
    )
