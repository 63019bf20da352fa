"""LiteLLM's `model_prices_and_context_window.json` shape, loadable with `litellm.register_model`.

Keys are `<litellm provider>/<provider model id>`, the name LiteLLM routes on. A price, limit or
flag the catalog does not know is left out, never written as 0 or false.
"""

from __future__ import annotations

from typing import Any

# Catalog slug -> LiteLLM's provider name, where LiteLLM names the provider differently.
LITELLM_PROVIDERS = {
    "fireworks": "fireworks_ai",
    "together": "together_ai",
    "google-vertex": "vertex_ai",
    "featherless": "featherless_ai",
    "vercel-ai-gateway": "vercel_ai_gateway",
    "alibaba": "dashscope",
    "fal": "fal_ai",
}
PRICE_KEYS = {
    "pricing_prompt": "input_cost_per_token",
    "pricing_completion": "output_cost_per_token",
    "pricing_cache_read": "cache_read_input_token_cost",
    "pricing_cache_write": "cache_creation_input_token_cost",
}
FLAG_KEYS = {
    "supports_function_calling": "supports_function_calling",
    "supports_vision": "supports_vision",
    "supports_reasoning": "supports_reasoning",
}


def litellm_provider(slug: str) -> str:
    return LITELLM_PROVIDERS.get(slug, slug)


def mode_of(row: dict[str, Any]) -> str:
    outputs = set(row.get("output_modalities") or [])
    inputs = set(row.get("input_modalities") or [])
    if "embedding" in outputs or "embeddings" in outputs:
        return "embedding"
    if "image" in outputs:
        return "image_generation"
    if "audio" in outputs or "speech" in outputs:
        return "audio_speech"
    if "audio" in inputs and outputs <= {"text", "transcription"} and outputs:
        return "audio_transcription"
    return "chat"


def entry(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column, key in PRICE_KEYS.items():
        if row.get(column) is not None:
            out[key] = row[column]
    if row.get("pricing_image") is not None and mode_of(row) == "image_generation":
        out["output_cost_per_image"] = row["pricing_image"]
    if row.get("context_length") is not None:
        out["max_input_tokens"] = row["context_length"]
    if row.get("max_output_tokens") is not None:
        out["max_output_tokens"] = row["max_output_tokens"]
        out["max_tokens"] = row["max_output_tokens"]
    out["litellm_provider"] = litellm_provider(row["provider"])
    out["mode"] = mode_of(row)
    for column, key in FLAG_KEYS.items():
        if row.get(column) is not None:
            out[key] = row[column]
    return out


def build(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {f"{litellm_provider(row['provider'])}/{row['provider_model_id']}": entry(row) for row in rows}
