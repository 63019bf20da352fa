"""Money as `Decimal`, end to end.

Every price in the catalog is USD per token (or per image / per request for those meters).
Adapters parse a provider's value with `parse_price` and convert its unit explicitly with one
of the helpers below, which only shift the decimal point (`scaleb`), so nothing is rounded.
Unknown is `None`, never 0.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation

# Decimal's default context keeps 28 significant digits: `scaleb` or `normalize` under it would
# round a longer price (the catalog stores up to 48), silently. Under this one nothing rounds.
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)

# A JSON number is a binary double on the provider's side: beyond 15 significant digits it is
# float noise (DeepInfra sends 2.5999999999999996 for 2.6), so numbers are cut back to 15.
_DOUBLE_SIGNIFICANT_DIGITS = 15


class InvalidPrice(ValueError):
    """A price field that cannot be read as a non-negative decimal."""


def parse_price(value: object, *, field: str = "price") -> Decimal | None:
    """Read a provider's price value as an exact Decimal; `None`/"" -> unknown (None).

    Accepts decimal strings ("0.000000005"), ints, and JSON numbers already decoded as Decimal
    (the pipeline decodes JSON with `parse_float=Decimal`). Floats are taken through `repr`,
    never through binary arithmetic. Booleans, containers and text are rejected.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidPrice(f"{field}: expected a number, got a boolean ({value!r})")
    if isinstance(value, Decimal):
        price = _trim_float_noise(value)
    elif isinstance(value, int):
        price = Decimal(value)
    elif isinstance(value, float):
        price = _trim_float_noise(Decimal(repr(value)))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            price = Decimal(text)
        except InvalidOperation:
            raise InvalidPrice(f"{field}: {value!r} is not a number") from None
    else:
        raise InvalidPrice(f"{field}: expected a number, got {type(value).__name__}")
    if not price.is_finite():
        raise InvalidPrice(f"{field}: {value!r} is not a finite number")
    if price < 0:
        raise InvalidPrice(f"{field}: {value!r} is negative")
    return price


def _trim_float_noise(value: Decimal) -> Decimal:
    if not value.is_finite() or value == 0:
        return value
    digits = len(value.as_tuple().digits)
    if digits <= _DOUBLE_SIGNIFICANT_DIGITS:
        return value
    exponent = value.adjusted() - _DOUBLE_SIGNIFICANT_DIGITS + 1
    return value.quantize(Decimal(1).scaleb(exponent)).normalize()


def scaled(value: Decimal | None, power_of_ten: int) -> Decimal | None:
    """Shift the decimal point: `scaled(Decimal("1.25"), -6) == Decimal("0.00000125")`."""
    return None if value is None else value.scaleb(power_of_ten, context=EXACT)


def per_token(value: object, *, field: str = "price") -> Decimal | None:
    """The provider already quotes USD per token (or per image / per request)."""
    return parse_price(value, field=field)


def per_million_tokens(value: object, *, field: str = "price") -> Decimal | None:
    """The provider quotes USD per 1M tokens."""
    return scaled(parse_price(value, field=field), -6)


def to_fixed_point(value: Decimal | None) -> str | None:
    """Plain decimal text without exponent: Decimal('5E-9') -> '0.000000005'."""
    if value is None:
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".") or "0"
    return text
