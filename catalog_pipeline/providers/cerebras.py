"""Cerebras: the public catalogue `GET /models` under /public/v1 (no key), OpenAI-style envelope, with
`limits`, `capabilities`, `deprecated` and `pricing` per model. Only `pricing.prompt` /
`pricing.completion` are read, as USD per token (decimal strings, the OpenRouter convention one
consumer's code relies on); any other pricing key is kept in metadata unconverted, and the
cache/image/request zeros a third-party audit calls placeholders are not used. Unverified: all of
the pricing field names and unit, and the capability key names (both `function_calling` and `tools`
accepted). The account list `/v1/models` (id/created/owned_by only) also loads, as rows without
prices or limits.
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.modalities import modality_fields, string_list, text_inputs
from catalog_pipeline.pipeline.money import per_token
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="cerebras",
    name="Cerebras",
    base_url="https://api.cerebras.ai/public/v1",
    kind="text",
    key_required=False,
    price_unit="USD per token, decimal strings (pricing.prompt/completion; unverified)",
)

_MAPPED_PRICES = {"prompt", "completion"}


def _capability(capabilities: Any, *names: str) -> bool | None:
    """Capabilities arrive as an object of flags or, defensively, as a list of names."""
    if isinstance(capabilities, dict):
        flags = [capabilities[name] for name in names if isinstance(capabilities.get(name), bool)]
        return any(flags) if flags else None
    listed = string_list(capabilities)
    return None if listed is None else any(name in listed for name in names)


def transform(entry: dict[str, Any]) -> ModelRecord:
    pricing = entry.get("pricing") or {}
    limits = entry.get("limits") or {}
    capabilities = entry.get("capabilities")
    inputs = text_inputs(_capability(capabilities, "vision"))
    outputs = ["text"]  # Cerebras serves only chat/text completion models
    deprecated = entry.get("deprecated")
    # The preview flag's name is unverified, so both spellings are kept.
    metadata = {key: entry[key] for key in ("owned_by", "created", "preview", "is_preview") if key in entry}
    other_prices = {k: v for k, v in pricing.items() if k not in _MAPPED_PRICES}
    if other_prices:
        metadata["pricing_other"] = other_prices
    return ModelRecord(
        provider_model_id=entry["id"],
        model_name=entry.get("name"),
        # Cerebras' public catalogue quotes USD per token (unverified, see the module docstring).
        pricing_prompt=per_token(pricing.get("prompt"), field="pricing.prompt"),
        pricing_completion=per_token(pricing.get("completion"), field="pricing.completion"),
        context_length=limits.get("max_context_length"),
        max_output_tokens=limits.get("max_completion_tokens"),
        **modality_fields(inputs, outputs),
        supports_streaming=_capability(capabilities, "streaming"),
        supports_function_calling=_capability(capabilities, "function_calling", "tools"),
        supports_reasoning=_capability(capabilities, "reasoning"),
        is_active=deprecated is not True,
        metadata=metadata,
    )
