"""Providers' published deprecation and expiration dates, in the shapes they send them."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from .records import SkipModel


def lifecycle_date(value: Any, *, field: str) -> date | None:
    """A date from `YYYY-MM-DD`, an ISO 8601 time, unix seconds or `{year, month, day}`;
    None for null or empty. Anything else skips the entry, naming the field."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str):
            text = value.strip()
            if len(text) == 10:
                return date.fromisoformat(text)
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return (moment.astimezone(timezone.utc) if moment.tzinfo else moment).date()
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) and value > 0:
            return datetime.fromtimestamp(float(value), tz=timezone.utc).date()
        if isinstance(value, dict) and set(value) >= {"year", "month", "day"}:
            return date(int(value["year"]), int(value["month"]), int(value["day"]))
    except (ValueError, TypeError, OverflowError, OSError):
        pass
    raise SkipModel(f"{field} is not a date: {str(value)[:60]!r}")
