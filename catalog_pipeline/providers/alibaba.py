"""Alibaba Cloud Model Studio (DashScope, international region): OpenAI-compatible `GET /models`
under /compatible-mode/v1, Bearer key of the same region. The list has ids only: no prices, names,
context lengths or modalities, so those columns stay NULL (prices live on the pricing page).

Unverified: no real body was found; the shape is the OpenAI list quoted in a connector's docs.
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="alibaba",
    name="Alibaba Cloud (DashScope)",
    base_url="https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
    kind="text",
    key_required=True,
    price_unit="none (no prices in the API)",
)


def transform(entry: dict[str, Any]) -> ModelRecord:
    # No prices, context or modalities: DashScope publishes them only on its pricing page.
    return ModelRecord(
        provider_model_id=entry["id"],
        metadata={"owned_by": entry.get("owned_by"), "created": entry.get("created")},
    )
