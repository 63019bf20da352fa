"""AIMO Network: `GET /models` on the devnet API, `{"data": [model]}` where each model lists
marketplace offers in `providers[]`. One row per offer, keyed by the routable id
`<provider_id>:<name>`: that is the id a chat request names, and each offer has its own price, so
a one-row-per-model choice would store a price you cannot route to (and churn whenever the cheapest
offer changes). Models with no offers are skipped: nothing can serve them.

UNVERIFIED: the price unit. `providers[].pricing.prompt/completion` mirror OpenRouter's shape and
are read as USD per token; a value above 0.001 USD per token (1,000 USD per 1M) cannot be a token
price, so such an entry is skipped with a reason instead of being stored 1e6 too high.
No real body was ever published; the shape comes from the gatewayz normalizer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from catalog_pipeline.pipeline.entry import object_field
from catalog_pipeline.pipeline.modalities import modality_fields, string_list
from catalog_pipeline.pipeline.money import per_token
from catalog_pipeline.pipeline.records import ModelRecord, SkipModel
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="aimo",
    name="AIMO Network",
    base_url="https://devnet.aimo.network/api/v1",
    kind="text",
    key_required=False,
    price_unit="per provider offer, read as USD per token (unconfirmed)",
)

# Above this a "per token" price is implausible (1,000 USD per 1M tokens): the unit is not per token.
_MAX_TOKEN_PRICE = Decimal("0.001")


def _price(pricing: dict[str, Any], key: str) -> Decimal | None:
    # AIMO's unit is unconfirmed; read as USD per token like OpenRouter's `pricing` (see docstring).
    price = per_token(pricing.get(key), field=f"pricing.{key}")
    if price is not None and price > _MAX_TOKEN_PRICE:
        raise SkipModel(f"pricing.{key} {price} is implausible as USD per token; AIMO's price unit is unverified")
    return price


def transform(entry: dict[str, Any]) -> list[ModelRecord]:
    name = entry["name"]
    if not isinstance(name, str) or not name.strip():
        raise SkipModel("missing or empty model name")
    offers = entry.get("providers")
    if not isinstance(offers, list):
        raise TypeError(f"providers is {type(offers).__name__}, expected a list")
    if not offers:
        raise SkipModel("no provider offers, so no routable id")
    architecture = entry.get("architecture") or {}
    inputs = string_list(architecture.get("input_modalities"))
    outputs = string_list(architecture.get("output_modalities"))
    return [_offer_record(entry, name, offer, inputs, outputs) for offer in offers]


def _offer_record(
    entry: dict[str, Any], name: str, offer: Any, inputs: list[str] | None, outputs: list[str] | None
) -> ModelRecord:
    if not isinstance(offer, dict):
        raise TypeError(f"providers[] item is {type(offer).__name__}, expected an object")
    provider_id = offer["id"]
    if not isinstance(provider_id, str) or not provider_id.strip():
        raise SkipModel(f"provider offer with an empty id for {name!r}")
    pricing = object_field(offer, "pricing", label="providers[].pricing")
    return ModelRecord(
        provider_model_id=f"{provider_id}:{name}",
        model_name=entry.get("display_name") or name,
        pricing_prompt=_price(pricing, "prompt"),
        pricing_completion=_price(pricing, "completion"),
        context_length=entry.get("context_length"),
        **modality_fields(inputs, outputs),
        metadata={
            "model": name,
            "provider_id": provider_id,
            "provider_name": offer.get("name"),
            "offers": len(entry["providers"]),
            "created": entry.get("created"),
        },
    )
