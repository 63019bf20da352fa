"""Novita AI: `GET /models` under /v3/openai, Bearer key, prices as integers of 1e-10 USD per token.

`input_token_price_per_m` counts units of 0.0001 USD per 1M tokens, i.e. 1e-10 USD per token
(the llama-3.1-405b 2024 sample: 30000 -> 3.00 USD per 1M). `context_size` is the context key;
`status` 1 = available, any other number is stored as inactive. Unverified: the integer unit is
documented nowhere in the JSON (derived from the sample and Novita's price page), and the newer
fields `max_output_tokens`, `features`, `input_modalities`, `output_modalities`, `model_type`
and `cached_input_token_price_per_m` come from client code, not a captured body.
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.modalities import feature_flags, modality_fields, string_list
from catalog_pipeline.pipeline.money import parse_price, scaled
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="novita",
    name="Novita AI",
    base_url="https://api.novita.ai/v3/openai",
    kind="text",
    key_required=True,
    price_unit="integer units of 0.0001 USD per 1M tokens (= 1e-10 USD per token)",
)

_KEPT = ("created", "tags", "model_type", "endpoints", "status")


def _price(entry: dict[str, Any], key: str):
    # Novita quotes integer units of 0.0001 USD per 1M tokens = 1e-10 USD per token.
    return scaled(parse_price(entry.get(key), field=key), -10)


def transform(entry: dict[str, Any]) -> ModelRecord:
    inputs = string_list(entry.get("input_modalities"))
    outputs = string_list(entry.get("output_modalities"))
    features = string_list(entry.get("features"))
    status = entry.get("status")
    return ModelRecord(
        provider_model_id=entry["id"],
        model_name=entry.get("display_name") or entry.get("title"),
        description=entry.get("description"),
        pricing_prompt=_price(entry, "input_token_price_per_m"),
        pricing_completion=_price(entry, "output_token_price_per_m"),
        pricing_cache_read=_price(entry, "cached_input_token_price_per_m"),
        context_length=entry.get("context_size"),
        max_output_tokens=entry.get("max_output_tokens"),
        **modality_fields(inputs, outputs),
        **feature_flags(features),
        is_active=status == 1 if isinstance(status, int) and not isinstance(status, bool) else True,
        metadata={key: entry[key] for key in _KEPT if entry.get(key) not in (None, "", [])}
        | ({"features": features} if features is not None else {}),
    )
