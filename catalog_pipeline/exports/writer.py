"""A JSON writer that prints a Decimal as the number it is (the json module would need a float)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from catalog_pipeline.pipeline.money import to_fixed_point


def dumps(value: Any, indent: int = 2) -> str:
    return _dump(value, indent, 0)


def _dump(value: Any, indent: int, depth: int) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written as a JSON number")
        return to_fixed_point(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner, outer = "\n" + " " * indent * (depth + 1), "\n" + " " * indent * depth
        items = (f"{json.dumps(str(k))}: {_dump(v, indent, depth + 1)}" for k, v in value.items())
        return "{" + inner + ("," + inner).join(items) + outer + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        inner, outer = "\n" + " " * indent * (depth + 1), "\n" + " " * indent * depth
        return "[" + inner + ("," + inner).join(_dump(v, indent, depth + 1) for v in value) + outer + "]"
    if isinstance(value, (datetime, date)):
        return json.dumps(value.isoformat())
    if isinstance(value, float):
        raise TypeError("floats are not written: money is Decimal end to end")
    return json.dumps(value)
