"""Fireworks AI: OpenAI-compatible `GET /models` under /inference/v1, key required, no prices in the
API: prices are stored as NULL (Fireworks publishes them only on its pricing page). Router entries
(`accounts/fireworks/routers/...`) are callable ids and stay as rows, flagged in metadata.
Unverified: `kind` values beyond the documented HF_BASE_MODEL / EMBEDDING_MODEL (FLUMINA_* read as
image models), and older responses carry only id/object/owned_by/created (capabilities NULL).
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.modalities import bool_flag, modality_fields, text_inputs
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="fireworks",
    name="Fireworks AI",
    base_url="https://api.fireworks.ai/inference/v1",
    kind="text",
    key_required=True,
    price_unit="none (no prices in the API)",
)


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
    inputs = text_inputs(bool_flag(entry, "supports_image_input"))
    metadata = {key: entry[key] for key in ("kind", "supports_chat", "owned_by", "created") if key in entry}
    if router:
        metadata["router"] = True
    return ModelRecord(
        provider_model_id=model_id,
        # No prices: Fireworks' list APIs carry none.
        context_length=entry.get("context_length"),
        **modality_fields(inputs, outputs),
        supports_function_calling=bool_flag(entry, "supports_tools"),
        metadata=metadata,
    )
