"""Groq: OpenAI-style `GET /models`, no prices in the API (stored as NULL), `context_window`.

`active: false` entries stay in the catalog as inactive. Unverified: `input_modalities`,
`output_modalities`, `supported_features` (one 2026 fixture); read when present.
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.http import FetchedPage, ProviderHttp
from catalog_pipeline.pipeline.modalities import flag_in, modality_of, string_list
from catalog_pipeline.pipeline.paging import fetch_pages, single_page
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="groq",
    name="Groq",
    base_url="https://api.groq.com/openai/v1",
    kind="text",
    key_required=True,
    endpoint="GET /models",
    price_unit="none (no prices in the API)",
    unverified="input_modalities, output_modalities, supported_features",
)


def fetch(http: ProviderHttp) -> list[FetchedPage]:
    return fetch_pages(http, "/models", None, single_page)


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
        modality=modality_of(inputs, outputs),
        input_modalities=inputs,
        output_modalities=outputs,
        supports_function_calling=flag_in(features, "tools"),
        supports_vision=flag_in(inputs, "image"),
        supports_reasoning=flag_in(features, "reasoning"),
        is_active=active if isinstance(active, bool) else True,
        metadata={"owned_by": entry.get("owned_by"), "created": entry.get("created")},
    )
