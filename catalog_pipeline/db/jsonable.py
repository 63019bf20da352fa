"""Provider fields -> plain JSON values, so `metadata` compares equal after a round trip; and
stored JSON text read back."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from catalog_pipeline.pipeline.money import to_fixed_point


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return to_fixed_point(value) if value.is_finite() else str(value)
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def stored_json(column: str, value: Any) -> Any:
    """A JSON column's value as the catalog stores it (an absent `metadata` object is {})."""
    return jsonable(value or {}) if column == "metadata" else jsonable(value)


def loads_stored(text: str | bytes) -> Any:
    """A stored JSON document's text as the driver's loader reads it (floats for fractions), with
    orjson: several times faster than `json`, which reads what orjson does not (an integer beyond
    64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
