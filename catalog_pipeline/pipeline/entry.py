"""Small readers adapters share for the parts of an entry that come in several shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, TypeVar

Offer = TypeVar("Offer")


def object_field(entry: dict[str, Any], key: str, *, label: str | None = None) -> dict[str, Any]:
    """`entry[key]` as an object: missing, null or empty is {}, anything else skips the entry."""
    value = entry.get(key) or {}
    if not isinstance(value, dict):
        raise TypeError(f"{label or key} is {type(value).__name__}, expected an object")
    return value


def cheapest_offer(
    offers: list[Offer],
    prices_of: Callable[[Offer], tuple[Decimal | None, Decimal | None]],
    provider_of: Callable[[Offer], Any],
) -> tuple[Offer, tuple[Decimal, Decimal]] | None:
    """The offer a row carries when a model is sold by several upstreams: the cheapest (input +
    output, USD per token) among those with both prices known; a tie goes to the provider name."""
    priced = [(offer, prices) for offer in offers if None not in (prices := prices_of(offer))]
    if not priced:
        return None
    return min(priced, key=lambda item: (item[1][0] + item[1][1], str(provider_of(item[0]))))
