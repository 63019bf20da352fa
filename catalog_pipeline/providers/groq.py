"""Groq: OpenAI-style `GET /models`, no prices in the API (stored as NULL), `context_window`.

`active: false` entries stay in the catalog as inactive. Unverified: `input_modalities`,
`output_modalities`, `supported_features` (one 2026 fixture); read when present.
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.modalities import feature_flags, modality_fields, string_list
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="groq",
    name="Groq",
    base_url="https://api.groq.com/openai/v1",
    kind="text",
    key_required=True,
    price_unit="none (no prices in the API)",
)


def transform(entry: dict[str, Any]) -> ModelRecord:
    inputs = string_list(entry.get("input_modalities"))
    outputs = string_list(entry.get("output_modalities"))
    features = string_list(entry.get("supported_features"))
    active = entry.get("active")
    return ModelRecord(
        provider_model_id=entry["id"],
        model_name=entry.get("name"),
        # No prices: Groq publishes them only on its pricing page.
        context_length=entry.get("context_window"),
        max_output_tokens=entry.get("max_completion_tokens"),
        **modality_fields(inputs, outputs),
        **feature_flags(features),
        is_active=active if isinstance(active, bool) else True,
        metadata={"owned_by": entry.get("owned_by"), "created": entry.get("created")},
    )
