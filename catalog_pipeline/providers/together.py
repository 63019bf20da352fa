"""Together AI: `GET /models`, key required, a bare JSON array; `pricing.input/output` in USD per 1M
tokens. Zeros are ambiguous in this list, so they are read by model type: for image, audio,
transcribe and video models the token prices are 0 because those are priced per image/second
elsewhere, so they are stored as unknown (NULL) with the raw `pricing` kept in metadata. For
token-priced types a 0/0 pair is free only when the id carries Together's `-Free` suffix; otherwise
it is a model without a serverless price (dedicated-only) and stored as unknown too. A lone 0
beside a non-zero price is kept as 0. No capability flags in the API: modalities come from `type`
where it is unambiguous. Unverified: that a 0/0 pair on a non-`-Free` token model means "no
serverless price".
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.modalities import modality_fields
from catalog_pipeline.pipeline.money import per_million_tokens
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="together",
    name="Together AI",
    base_url="https://api.together.xyz/v1",
    kind="text",
    key_required=True,
    price_unit="USD per 1M tokens, JSON numbers; 0 for free and for non-token-priced models",
    list_path=(),
)

# type -> (input modalities, output modalities); None where the type does not settle it
# (chat models may take images; image/video models may take a reference image).
_MODALITIES: dict[str, tuple[list[str] | None, list[str]]] = {
    "chat": (None, ["text"]),
    "language": (["text"], ["text"]),
    "code": (["text"], ["text"]),
    "moderation": (["text"], ["text"]),
    "rerank": (["text"], ["text"]),
    "embedding": (["text"], ["embeddings"]),
    "image": (None, ["image"]),
    "video": (None, ["video"]),
    "audio": (["text"], ["audio"]),
    "transcribe": (["audio"], ["text"]),
}
_NOT_TOKEN_PRICED = {"image", "video", "audio", "transcribe"}
_MAPPED_PRICES = {"input", "output"}
_METADATA_KEYS = ("type", "organization", "license", "link", "running", "created")


def transform(entry: dict[str, Any]) -> ModelRecord:
    model_id = entry["id"]
    model_type = entry.get("type")
    pricing = entry.get("pricing") or {}
    # Together quotes USD per 1M tokens.
    prompt = per_million_tokens(pricing.get("input"), field="pricing.input")
    completion = per_million_tokens(pricing.get("output"), field="pricing.output")
    free = isinstance(model_id, str) and model_id.lower().endswith("-free")
    if model_type in _NOT_TOKEN_PRICED or (prompt == 0 and completion == 0 and not free):
        prompt = completion = None
    inputs, outputs = _MODALITIES.get(model_type, (None, None))
    metadata = {key: entry[key] for key in _METADATA_KEYS if key in entry}
    # hourly/base/finetune are dedicated and fine-tuning meters, 0 when not offered.
    other = {k: v for k, v in pricing.items() if k not in _MAPPED_PRICES and v}
    if prompt is None and completion is None and pricing:
        metadata["pricing"] = pricing  # raw, so the unknown token prices can be judged later
    elif other:
        metadata["pricing_other"] = other
    return ModelRecord(
        provider_model_id=model_id,
        model_name=entry.get("display_name"),
        pricing_prompt=prompt,
        pricing_completion=completion,
        context_length=entry.get("context_length"),
        **modality_fields(inputs, outputs),
        metadata=metadata,
    )
