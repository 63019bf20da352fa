"""Featherless: `GET /models?per_page=500&page=N`, key optional, paged until `pagination.current_page`
reaches `total_pages`; prices `pricing.input/output` in USD per 1M tokens. Unverified: the price
unit and the `features` object (2026 secondary sources only; older responses carry neither, so
those rows get NULL prices and capabilities), and the largest `per_page` the API accepts (a smaller
server-side cap only means more pages, since paging follows `total_pages`).
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.http import FetchedPage
from catalog_pipeline.pipeline.modalities import bool_flag, modality_fields, text_inputs
from catalog_pipeline.pipeline.money import per_million_tokens
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec


def _next_page(page: FetchedPage, params: dict[str, Any]):
    paging = page.payload.get("pagination") if isinstance(page.payload, dict) else None
    if not isinstance(paging, dict):
        return None  # an unpaged answer holds the whole list
    current, total = paging.get("current_page"), paging.get("total_pages")
    if not isinstance(current, int) or not isinstance(total, int) or current >= total:
        return None
    return page.url.split("?", 1)[0], {**params, "page": current + 1}


SPEC = ProviderSpec(
    slug="featherless",
    name="Featherless",
    base_url="https://api.featherless.ai/v1",
    kind="text",
    key_required=False,
    price_unit="USD per 1M tokens, JSON numbers (absent in older responses)",
    # Without per_page the whole ~20k-model catalogue (7-8 MB) comes back in one body.
    endpoint_query={"per_page": 500, "page": 1},
    paging=_next_page,
    endpoint_note="pages until pagination.total_pages",
)


def transform(entry: dict[str, Any]) -> ModelRecord:
    pricing = entry.get("pricing") or {}
    features = entry.get("features")
    inputs = text_inputs(bool_flag(features, "image_input"))
    outputs = ["text"]  # Featherless serves only (chat) completions
    metadata = {
        key: entry[key]
        for key in ("model_class", "is_gated", "available_on_current_plan", "created")
        if key in entry  # available_on_current_plan is absent on keyless calls: unknown, not false
    }
    return ModelRecord(
        provider_model_id=entry["id"],
        model_name=entry.get("name"),
        # Featherless quotes USD per 1M tokens (2026 sources, unverified).
        pricing_prompt=per_million_tokens(pricing.get("input"), field="pricing.input"),
        pricing_completion=per_million_tokens(pricing.get("output"), field="pricing.output"),
        context_length=entry.get("context_length"),
        max_output_tokens=entry.get("max_completion_tokens"),
        **modality_fields(inputs, outputs),
        supports_function_calling=bool_flag(features, "tool_use"),
        metadata=metadata,
    )
