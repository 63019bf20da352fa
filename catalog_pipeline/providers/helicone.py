"""Helicone public model registry: `GET /public/model-registry/models`, no auth, USD per 1M tokens.

Prices are per upstream endpoint (OpenAI, Bedrock, Vertex, ...), computed server-side as the
registry's per-token price x 1e6 (so float noise such as 0.15000000000000002 occurs; it is cut
to 15 digits). Every offer is kept in metadata["offers"] as quoted; the row carries the cheapest
offer with both a prompt and a completion price (prompt + completion, ties by provider name),
named in metadata["price_offer_provider"]. The nested `endpoint` object holds Helicone's raw
per-token config and is never read. Unverified: no captured body exists, the shape comes from
Helicone's controller source (commit 13924ce1).
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.entry import cheapest_offer
from catalog_pipeline.pipeline.modalities import feature_flags, modality_fields, string_list
from catalog_pipeline.pipeline.money import parse_price, per_million_tokens
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="helicone",
    name="Helicone",
    base_url="https://jawn.helicone.ai/v1",
    kind="text",
    key_required=False,
    endpoint_path="/public/model-registry/models",
    price_unit="USD per 1M tokens, JSON numbers, per upstream endpoint",
    list_path=("data", "models"),
)


def _offer(endpoint: Any) -> dict[str, Any]:
    if not isinstance(endpoint, dict) or not isinstance(endpoint.get("pricing"), dict):
        raise TypeError("an endpoint without a pricing object")
    provider = endpoint.get("provider")
    pricing = endpoint["pricing"]
    for key in ("prompt", "completion", "cacheRead", "cacheWrite"):
        parse_price(pricing.get(key), field=f"{provider}.pricing.{key}")  # reject bad values early
    return {
        "provider": provider,
        "providerSlug": endpoint.get("providerSlug"),
        "supportsPtb": endpoint.get("supportsPtb"),
        "pricing": pricing,
        **({"pricingTiers": endpoint["pricingTiers"]} if endpoint.get("pricingTiers") else {}),
    }


def transform(entry: dict[str, Any]) -> ModelRecord:
    endpoints = entry.get("endpoints") or []
    if not isinstance(endpoints, list):
        raise TypeError(f"endpoints is {type(endpoints).__name__}, expected a list")
    offers = [_offer(endpoint) for endpoint in endpoints]
    cheapest = cheapest_offer(
        offers,
        lambda offer: (parse_price(offer["pricing"].get("prompt")), parse_price(offer["pricing"].get("completion"))),
        lambda offer: offer["provider"],
    )
    chosen = cheapest[0] if cheapest else None
    pricing = chosen["pricing"] if chosen else {}
    inputs = string_list(entry.get("inputModalities"))
    outputs = string_list(entry.get("outputModalities"))
    parameters = string_list(entry.get("supportedParameters"))
    return ModelRecord(
        provider_model_id=entry["id"],
        model_name=entry.get("name"),
        description=entry.get("description"),
        # Helicone's registry quotes USD per 1M tokens (per-token price x 1e6 server-side).
        pricing_prompt=per_million_tokens(pricing.get("prompt"), field="pricing.prompt"),
        pricing_completion=per_million_tokens(pricing.get("completion"), field="pricing.completion"),
        pricing_cache_read=per_million_tokens(pricing.get("cacheRead"), field="pricing.cacheRead"),
        pricing_cache_write=per_million_tokens(pricing.get("cacheWrite"), field="pricing.cacheWrite"),
        # `image` there is USD per 1M image tokens, not per image: it stays in the offers only.
        context_length=entry.get("contextLength"),
        max_output_tokens=entry.get("maxOutput"),
        **modality_fields(inputs, outputs),
        **feature_flags(parameters),
        metadata={
            "author": entry.get("author"),
            "training_date": entry.get("trainingDate"),
            "supported_parameters": parameters,
            "price_offer_provider": chosen["provider"] if chosen else None,
            "offers_price_unit": "USD per 1M tokens",
            "offers": offers,
        },
    )
