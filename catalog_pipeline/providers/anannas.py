"""Anannas: `GET /models?details=true`, Bearer key, `pricing.input/output` read as USD per 1M tokens.

`details=true` adds `context_window`, `max_output`, `pricing` and `supported_parameters` to the
OpenAI-style list; the docs require a Bearer key on every request. Unverified: the price unit
(no doc states it and no real body is public), assumed USD per 1M tokens as at the other
gateways of this kind; check it with a known model (GPT-5 input must come out at 1.25 per 1M),
and every field except those named above.
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.entry import object_field
from catalog_pipeline.pipeline.modalities import feature_flags, string_list
from catalog_pipeline.pipeline.money import per_million_tokens
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="anannas",
    name="Anannas",
    base_url="https://api.anannas.ai/v1",
    kind="text",
    key_required=True,
    price_unit="numbers, assumed USD per 1M tokens (unconfirmed)",
    # details=true is what adds pricing and limits to the bare OpenAI list.
    endpoint_query={"details": "true"},
)


def transform(entry: dict[str, Any]) -> ModelRecord:
    pricing = object_field(entry, "pricing")
    parameters = string_list(entry.get("supported_parameters"))
    return ModelRecord(
        provider_model_id=entry["id"],
        model_name=entry.get("name"),
        description=entry.get("description"),
        # Anannas quotes USD per 1M tokens (assumed, unverified: no document states the unit).
        pricing_prompt=per_million_tokens(pricing.get("input"), field="pricing.input"),
        pricing_completion=per_million_tokens(pricing.get("output"), field="pricing.output"),
        context_length=entry.get("context_window"),
        max_output_tokens=entry.get("max_output"),
        **feature_flags(parameters),
        metadata={"owned_by": entry.get("owned_by"), "supported_parameters": parameters},
    )
