"""Second-source prices: a provider's price for a model, as published by someone else.

The first such source is the Hugging Face router, whose catalog row for each Hub model keeps
every serving provider's offer (`metadata.offers`, prices in USD per 1M tokens). When a provider's
own list has no price for a model, and the router publishes *that provider's* price for the same
canonical model (linked by `hf_id` or `curated`, never by name alone), the row takes it:

- `price_source` says where the prompt/completion prices came from: `provider` or
  `huggingface-router`; NULL when there is no price at all;
- `price_observed_at` is when the source last confirmed them: the router's last successful sync;
- a price the provider publishes itself always wins; no live, priced offer means NULL.

The fill happens on the normalized frame, before the load, so a filled price meets the same
plausibility check and held-move guard as any other, and goes into history and the change feed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Text, cast, select

from catalog_pipeline.pipeline.money import InvalidPrice, per_million_tokens
from catalog_pipeline.pipeline.records import PRICE_COLUMNS
from catalog_pipeline.providers import ROUTER_SLUG

from .canonical import canonical_slug, strong_link
from .jsonable import loads_stored
from .schema import models, providers

PROVIDER = "provider"
HUGGINGFACE_ROUTER = "huggingface-router"
# The router's name for a serving provider -> this catalog's slug (only providers the catalog syncs).
ROUTER_PROVIDER_NAMES = {
    "groq": "groq",
    "cerebras": "cerebras",
    "together": "together",
    "fireworks-ai": "fireworks",
    "novita": "novita",
    "nebius": "nebius",
    "featherless-ai": "featherless",
}


@dataclass(frozen=True)
class RouterOffer:
    provider_slug: str
    hf_id: str
    pricing_prompt: Decimal
    pricing_completion: Decimal
    observed_at: datetime | None


@dataclass
class RouterOffers:
    by_key: dict[tuple[str, str], RouterOffer] = field(default_factory=dict)  # (slug, canonical slug)
    rejected: list[str] = field(default_factory=list)  # offers whose prices could not be read

    def get(self, provider_slug: str, slug: str) -> RouterOffer | None:
        return self.by_key.get((provider_slug, slug))


def router_offers(conn: Connection) -> RouterOffers:
    """Every live, fully priced offer the router's active catalog rows carry."""
    synced_at = conn.execute(select(providers.c.last_synced_at).where(providers.c.slug == ROUTER_SLUG)).scalar()
    rows = conn.execute(
        # As text, parsed here: the driver's loader parses with `json`, several times slower.
        select(models.c.provider_model_id, cast(models.c.metadata["offers"], Text))
        .join(providers, providers.c.id == models.c.provider_id)
        .where(providers.c.slug == ROUTER_SLUG, models.c.is_active.is_(True))
    ).all()
    found = RouterOffers()
    for hf_id, text in rows:
        offers = None if text is None else loads_stored(text)
        for offer in offers if isinstance(offers, list) else []:
            slug = ROUTER_PROVIDER_NAMES.get(offer.get("provider")) if isinstance(offer, dict) else None
            if slug is None or offer.get("status") != "live":
                continue
            try:
                prompt, completion = _offer_prices(offer)
            except InvalidPrice as exc:
                found.rejected.append(f"{hf_id} at {offer.get('provider')}: {exc}")
                continue
            if prompt is not None and completion is not None:
                found.by_key[(slug, canonical_slug(hf_id))] = RouterOffer(slug, hf_id, prompt, completion, synced_at)
    return found


def _offer_prices(offer: dict[str, Any]) -> tuple[Decimal | None, Decimal | None]:
    pricing = offer.get("pricing")
    if pricing is None:
        return None, None
    if not isinstance(pricing, dict):
        raise InvalidPrice(f"pricing is {type(pricing).__name__}, expected an object")
    # The router quotes every serving provider's price in USD per 1M tokens.
    return (
        per_million_tokens(pricing.get("input"), field="pricing.input"),
        per_million_tokens(pricing.get("output"), field="pricing.output"),
    )


@dataclass
class FillReport:
    filled: list[str] = field(default_factory=list)
    rejected_offers: list[str] = field(default_factory=list)


def apply_price_sources(conn: Connection, provider_slug: str, frame: pd.DataFrame, fetched_at: datetime) -> FillReport:
    """Mark each row's price source in `frame` and fill unpriced rows from the router, in place.

    `frame.attrs["price_observed_at"]` maps each priced row to when its source showed the price:
    the provider's fetch for its own prices, the router's last sync for filled ones."""
    ids = frame["provider_model_id"].tolist()
    priced = frame[list(PRICE_COLUMNS)].notna().any(axis=1).tolist()
    sources: list[str | None] = [PROVIDER if known else None for known in priced]
    observed: dict[str, datetime] = dict.fromkeys((i for i, known in zip(ids, priced) if known), fetched_at)
    # Only a row without any price of its own looks for a second source, and only at a provider the
    # router serves: otherwise the router's offers (a read of its whole list) are not read at all.
    unpriced = [position for position, known in enumerate(priced) if not known]
    served = provider_slug != ROUTER_SLUG and provider_slug in ROUTER_PROVIDER_NAMES.values()
    offers = router_offers(conn) if unpriced and served else RouterOffers()
    report = FillReport(rejected_offers=offers.rejected)
    if unpriced and any(slug == provider_slug for slug, _ in offers.by_key):
        metadata = frame["metadata"].tolist()
        prompt, completion = frame.columns.get_loc("pricing_prompt"), frame.columns.get_loc("pricing_completion")
        for position in unpriced:
            model_id = ids[position]
            link = strong_link(provider_slug, model_id, metadata[position])
            offer = offers.get(provider_slug, link.slug) if link else None
            if offer is None:
                continue
            frame.iat[position, prompt] = offer.pricing_prompt
            frame.iat[position, completion] = offer.pricing_completion
            sources[position] = HUGGINGFACE_ROUTER
            observed[model_id] = offer.observed_at or fetched_at
            report.filled.append(model_id)
    frame["price_source"] = pd.array(sources, dtype="string")
    frame.attrs["price_observed_at"] = observed
    return report


