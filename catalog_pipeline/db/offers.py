"""Who sells a model, cheapest first; and where a provider's own price disagrees with a second source.

Cheapest first, by one stated rule: prompt price x 3 + completion price (USD per token), the
blend of a typical chat request that reads three tokens for each one it writes. Offers with
either price unknown come last; ties go to the provider slug, then the model id.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text

from catalog_pipeline.collector import collector_paused

from .canonical import normalized_name
from .engine import catalog_engine
from .schema import canonical_models, models, providers
from .second_source import PROVIDER, ROUTER_PROVIDER_NAMES, ROUTER_SLUG, router_offers

INPUT_WEIGHT = 3
DISCREPANCY_THRESHOLD = Decimal("0.01")  # more than 1% apart
COMPARED_COLUMNS = ("pricing_prompt", "pricing_completion")
_OFFER_COLUMNS = (
    "pricing_prompt", "pricing_completion", "pricing_cache_read", "pricing_cache_write", "pricing_image",
    "pricing_request", "price_source", "price_observed_at", "context_length", "max_output_tokens",
    "supports_streaming", "supports_function_calling", "supports_vision", "supports_reasoning",
    "match_method", "match_confidence",
)


def blended_price(prompt: Decimal | None, completion: Decimal | None) -> Decimal | None:
    if prompt is None or completion is None:
        return None
    return prompt * INPUT_WEIGHT + completion


def offer_sort_key(offer: dict[str, Any]) -> tuple:
    return cheapest_first_key(blended_price(offer["pricing_prompt"], offer["pricing_completion"]), offer["provider"], offer["model"])


def cheapest_first_key(blended: Decimal | None, provider: str, model: str) -> tuple:
    """The offers' order: cheapest blended price first, unknown last, then provider, then model."""
    return (blended is None, blended if blended is not None else Decimal(0), provider, model)


def offers(query: str, *, database_url: str | None = None) -> dict[str, Any] | None:
    """Every active offer of the canonical model that best matches `query` (a Hugging Face id,
    a provider's model id, or words such as "llama 3.3 70b"); None when nothing matches."""
    with catalog_engine(database_url).connect() as conn:
        return offers_in(conn, query)


def offers_in(conn: Connection, query: str) -> dict[str, Any] | None:
    candidates = _candidates(conn)
    ranked = rank_matches(query, candidates)
    if not ranked:
        return None
    best = ranked[0]
    rows = conn.execute(
        select(providers.c.slug.label("provider"), models.c.provider_model_id.label("model"), *(models.c[c] for c in _OFFER_COLUMNS))
        .join(providers, providers.c.id == models.c.provider_id)
        .where(models.c.canonical_model_id == best["id"], models.c.is_active.is_(True))
    ).mappings()
    listed = sorted((dict(row) for row in rows), key=offer_sort_key)
    for offer in listed:
        offer["blended_price"] = blended_price(offer["pricing_prompt"], offer["pricing_completion"])
    return {
        "canonical_model": {"slug": best["slug"], "hf_id": best["hf_id"]},
        "sort_rule": f"pricing_prompt * {INPUT_WEIGHT} + pricing_completion, ascending; unknown prices last",
        "offers": listed,
        "other_matches": [m["slug"] for m in ranked[1:6]],
    }


def _candidates(conn: Connection) -> list[dict[str, Any]]:
    """Canonical models with at least one active offer, and the provider ids that name them."""
    rows = conn.execute(
        select(canonical_models.c.id, canonical_models.c.slug, canonical_models.c.hf_id, models.c.provider_model_id)
        .join(models, models.c.canonical_model_id == canonical_models.c.id)
        .where(models.c.is_active.is_(True))
    )
    found: dict[int, dict[str, Any]] = {}
    for row_id, slug, hf_id, model_id in rows:
        entry = found.setdefault(row_id, {"id": row_id, "slug": slug, "hf_id": hf_id, "ids": set(), "offers": 0})
        entry["ids"].add(model_id.lower())
        entry["offers"] += 1
    return list(found.values())


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9.]+", text.lower()) if t]


def rank_matches(query: str, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Exact ids first; then models whose name holds every word of the query, fewest extra words
    first, then most offers."""
    wanted = query.strip().lower()
    if not wanted:
        return []
    exact = [c for c in candidates if wanted in (c["slug"], (c["hf_id"] or "").lower()) or wanted in c["ids"]]
    if exact:
        return sorted(exact, key=lambda c: (-c["offers"], c["slug"]))
    words = _tokens(wanted)
    scored = []
    for candidate in candidates:
        name = _tokens(candidate["slug"])
        if all(word in name for word in words):
            scored.append((len(set(name) - set(words)), -candidate["offers"], candidate["slug"], candidate))
        elif normalized_name(candidate["slug"]).replace("-", "") == wanted.replace(" ", "").replace("-", ""):
            scored.append((0, -candidate["offers"], candidate["slug"], candidate))
    return [item[-1] for item in sorted(scored, key=lambda item: item[:3])]


def price_discrepancies(engine: Engine) -> list[dict[str, Any]]:
    """Every (provider, model, price) where the provider's own price and the router's price for that
    same provider and canonical model are more than 1% apart. `ratio` = provider / router."""
    with collector_paused(), engine.connect() as conn:
        return _discrepancies_in(conn)


@dataclass
class DiscrepancyReport:
    inputs: str | None  # the fingerprint of what they were computed from; None on SQLite
    found: list[dict[str, Any]] | None  # None: the inputs are those of `unless_inputs`


def price_discrepancies_unless(engine: Engine, unless_inputs: str | None) -> DiscrepancyReport:
    """The discrepancies, unless what they are computed from is what `unless_inputs` fingerprinted
    (a refresh after a sync that touched none of the router's providers: nothing to compare anew).
    The fingerprint and the rows are read in one snapshot."""
    with collector_paused(), engine.connect() as conn:
        if conn.dialect.name != "postgresql":  # no fingerprint: always computed
            return DiscrepancyReport(None, _discrepancies_in(conn))
        with conn.execution_options(isolation_level="REPEATABLE READ").begin():
            inputs = _inputs_fingerprint(conn)
            return DiscrepancyReport(inputs, None if inputs == unless_inputs else _discrepancies_in(conn))


# What the discrepancies read: the router's active rows and the compared rows of the providers it
# quotes; per provider, each row's id, content (prices, price source and the router's offers are
# in its content hash) and link, hashed to 64 bits and summed; and when the router was synced (its
# offers' sighting time). A canonical model's slug never changes. The rules are in the version tag.
_INPUTS = text(
    "SELECT p.slug, CASE WHEN p.slug = :router THEN p.last_synced_at END, count(*),"
    " sum(hashtextextended(concat(m.id, '|', m.content_hash, '|', m.canonical_model_id, '|', m.match_method), 0))"
    " FROM models m JOIN providers p ON p.id = m.provider_id WHERE m.is_active AND p.slug = ANY(:slugs)"
    " AND (p.slug = :router OR (m.price_source = :own AND m.match_method = ANY(:methods)))"
    " GROUP BY p.slug, p.last_synced_at ORDER BY p.slug"
)
_COMPARED_METHODS = ("hf_id", "curated")  # the links a second price is looked up by
_RULES = f"discrepancies-v2|{DISCREPANCY_THRESHOLD}|{sorted(ROUTER_PROVIDER_NAMES.items())}|{COMPARED_COLUMNS}|{_COMPARED_METHODS}"


def _inputs_fingerprint(conn: Connection) -> str:
    slugs = sorted({ROUTER_SLUG, *ROUTER_PROVIDER_NAMES.values()})
    parameters = {"router": ROUTER_SLUG, "slugs": slugs, "own": PROVIDER, "methods": list(_COMPARED_METHODS)}
    read = conn.execute(_INPUTS, parameters).all()
    return hashlib.sha256(f"{_RULES}|{read}".encode()).hexdigest()


def _discrepancies_in(conn: Connection) -> list[dict[str, Any]]:
    offers_by_key = router_offers(conn)
    rows = conn.execute(
        select(
            providers.c.slug, models.c.provider_model_id, canonical_models.c.slug.label("canonical"),
            *(models.c[c] for c in COMPARED_COLUMNS),
        )
        .join(providers, providers.c.id == models.c.provider_id)
        .join(canonical_models, canonical_models.c.id == models.c.canonical_model_id)
        .where(models.c.is_active.is_(True), models.c.price_source == PROVIDER, models.c.match_method.in_(_COMPARED_METHODS))
        # The router quotes only the providers it serves: the others' rows have no second price.
        .where(providers.c.slug.in_(sorted(set(ROUTER_PROVIDER_NAMES.values()))))
        .order_by(providers.c.slug, models.c.provider_model_id)
    ).all()  # fetched at once: row by row, the driver's calls cost more than the comparisons
    found = []
    for slug, model_id, canonical, *own_prices in rows:
        offer = offers_by_key.get(slug, canonical)
        if offer is None:
            continue
        second = {"pricing_prompt": offer.pricing_prompt, "pricing_completion": offer.pricing_completion}
        for column, own in zip(COMPARED_COLUMNS, own_prices):
            if own is None or not differs(own, second[column]):
                continue
            found.append({
                "provider": slug, "model": model_id, "canonical_model": canonical,
                "field": column, "provider_value": own, "provider_source": PROVIDER,
                "second_value": second[column], "second_source": "huggingface-router",
                "second_observed_at": offer.observed_at, "ratio": price_ratio(own, second[column]),
            })
    return found


def differs(own: Decimal, second: Decimal) -> bool:
    if second == 0:
        return own != 0
    return abs(own - second) > DISCREPANCY_THRESHOLD * second


def price_ratio(own: Decimal, second: Decimal) -> Decimal | None:
    """provider / second source; None when the second source says 0 (no finite ratio)."""
    return None if second == 0 else own / second


def power_of_ten_exponent(ratio: Decimal | None) -> int | None:
    """k when `ratio` is 10^k or 10^-k within 1% (a unit slip such as per-1M read as per-token)."""
    if ratio is None or ratio <= 0:
        return None
    exponent = int(ratio.log10().to_integral_value())
    if exponent == 0:
        return None
    return abs(exponent) if abs(ratio / Decimal(10) ** exponent - 1) <= DISCREPANCY_THRESHOLD else None


def canonical_model_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(canonical_models)).scalar_one()
