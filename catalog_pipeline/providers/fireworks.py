"""Fireworks AI: OpenAI-compatible `GET /models` under /inference/v1, key required, no prices in the
API: prices are stored as NULL (Fireworks publishes them only on its pricing page). Router entries
(`accounts/fireworks/routers/...`) are callable ids and stay as rows, flagged in metadata.
Unverified: `kind` values beyond the documented HF_BASE_MODEL / EMBEDDING_MODEL (FLUMINA_* read as
image models), and older responses carry only id/object/owned_by/created (capabilities NULL).
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.http import FetchedPage, ProviderHttp
from catalog_pipeline.pipeline.modalities import bool_flag, modality_of, text_inputs
from catalog_pipeline.pipeline.paging import fetch_pages, single_page
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="fireworks",
    name="Fireworks AI",
    base_url="https://api.fireworks.ai/inference/v1",
    kind="text",
    key_required=True,
    endpoint="GET /models",
    price_unit="none (no prices in the API)",
    unverified="kind values other than HF_BASE_MODEL/EMBEDDING_MODEL; FLUMINA_* = image models",
)


def fetch(http: ProviderHttp) -> list[FetchedPage]:
    return fetch_pages(http, "/models", None, single_page)


def _outputs(kind: Any, entry: dict[str, Any], router: bool) -> list[str] | None:
    # Embedding models can still say supports_chat: true, so `kind` decides first.
    if kind == "EMBEDDING_MODEL":
        return ["embeddings"]
    if isinstance(kind, str) and kind.startswith("FLUMINA"):
        return ["image"]
    if router or bool_flag(entry, "supports_chat") or kind == "HF_BASE_MODEL":
        return ["text"]
    return None


def transform(entry: dict[str, Any]) -> ModelRecord:
    model_id = entry["id"]
    kind = entry.get("kind")
    router = isinstance(model_id, str) and "/routers/" in model_id
    outputs = _outputs(kind, entry, router)
    vision = bool_flag(entry, "supports_image_input")
    inputs = text_inputs(vision)
    metadata = {key: entry[key] for key in ("kind", "supports_chat", "owned_by", "created") if key in entry}
    if router:
        metadata["router"] = True
    return ModelRecord(
        provider_model_id=model_id,
        # No prices: Fireworks' list APIs carry none.
        context_length=entry.get("context_length"),
        modality=modality_of(inputs, outputs),
        input_modalities=inputs,
        output_modalities=outputs,
        supports_function_calling=bool_flag(entry, "supports_tools"),
        supports_vision=vision,
        metadata=metadata,
    )
