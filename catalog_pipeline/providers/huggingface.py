"""Hugging Face Inference Providers: router `GET /models`, key optional; every model is sold by
several serving providers, each offer priced `pricing.input/output` in USD per 1M tokens. The row
carries the price of the cheapest *live* offer that has both an input and an output price (cheapest
= lowest input + output per 1M; ties go to the provider name in alphabetical order), named in
metadata["price_offer_provider"]; every offer is kept in metadata["offers"] (without the
latency/throughput live metrics, which would change the row on every sync). Context length and tool
support come from that offer, else from the live offers (max context, any tool support). A model
with no live offer is stored inactive. `health_status` is `live` when any offer is, else `staging`
when one is, else the first status an offer publishes (`error`). Unverified: paging (none seen; about 140 models).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from catalog_pipeline.pipeline.entry import cheapest_offer
from catalog_pipeline.pipeline.modalities import health_status, modality_fields, string_list
from catalog_pipeline.pipeline.money import per_million_tokens
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="huggingface",
    name="Hugging Face",
    base_url="https://router.huggingface.co/v1",
    kind="text",
    key_required=False,
    price_unit="USD per 1M tokens, JSON numbers, per serving provider",
)

_OFFER_FIELDS = ("provider", "status", "context_length", "pricing", "is_free", "supports_tools",
                 "supports_structured_output", "is_model_author")


def _prices(offer: dict[str, Any]) -> tuple[Decimal | None, Decimal | None]:
    pricing = offer.get("pricing") or {}
    # Hugging Face quotes each serving provider's price in USD per 1M tokens.
    prompt = per_million_tokens(pricing.get("input"), field=f"{offer.get('provider')}.pricing.input")
    completion = per_million_tokens(pricing.get("output"), field=f"{offer.get('provider')}.pricing.output")
    return prompt, completion


def _tools_flag(offer: dict[str, Any] | None, live_flags: list[bool]) -> bool | None:
    if offer is not None:
        flag = offer.get("supports_tools")
        return flag if isinstance(flag, bool) else None
    return any(live_flags) if live_flags else None


def _health(offers: list[dict[str, Any]]) -> str | None:
    statuses = [status for offer in offers if (status := health_status(offer.get("status")))]
    best = [status for status in ("live", "staging") if status in statuses]
    return (best or statuses or [None])[0]


def transform(entry: dict[str, Any]) -> ModelRecord:
    offers = entry.get("providers") or []
    if not isinstance(offers, list) or not all(isinstance(offer, dict) for offer in offers):
        raise TypeError("providers is not a list of objects")
    live = [offer for offer in offers if offer.get("status") == "live"]
    chosen = cheapest_offer(live, _prices, lambda offer: offer.get("provider"))
    offer, (prompt, completion) = chosen if chosen else (None, (None, None))
    contexts = [c for o in live if isinstance(c := o.get("context_length"), int) and not isinstance(c, bool)]
    tools = [t for o in live if isinstance(t := o.get("supports_tools"), bool)]
    architecture = entry.get("architecture") or {}
    inputs = string_list(architecture.get("input_modalities"))
    outputs = string_list(architecture.get("output_modalities"))
    return ModelRecord(
        provider_model_id=entry["id"],
        pricing_prompt=prompt,
        pricing_completion=completion,
        context_length=(offer or {}).get("context_length") or (max(contexts) if contexts else None),
        **modality_fields(inputs, outputs),
        supports_function_calling=_tools_flag(offer, tools),
        is_active=bool(live),
        health_status=_health(offers),
        metadata={
            "owned_by": entry.get("owned_by"),
            "created": entry.get("created"),
            "price_offer_provider": offer.get("provider") if offer else None,
            "offers": [{key: o[key] for key in _OFFER_FIELDS if key in o} for o in offers],
        },
    )
