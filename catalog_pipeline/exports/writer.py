"""JSON writers that print a Decimal as the number it is (the json module would need a float).

`dumps` indents, for people (the CLI's answers). `dumps_compact` writes the export files: the
json module's C encoder does the work, each Decimal passing through it as a marked string that is
then replaced by its digits, which keeps a 400k-model export to seconds."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from catalog_pipeline.pipeline.money import to_fixed_point

_FLOAT_REFUSED = "floats are not written: money is Decimal end to end"
# A Decimal's stand-in inside the C encoder's output: a string no stored value starts with (the
# catalog keeps no NUL in any string); the count of replacements is checked all the same.
_MARK = "\x00D"
_MARK_ENCODED = '"\\u0000D'  # the stand-in's opening quote and first characters, as the encoder writes them
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
# A float is the only number the encoder writes with a point or an exponent. In compact JSON a
# value follows a key's ':' or a list's '[' or ','; a string can look the same (not a time's
# ':27.8', which follows a digit), and the exact check then clears it.
_MAYBE_FLOAT = re.compile(r"[\[,:](?<![0-9]:)-?[0-9]+[.eE]")
_FLOAT_TOKEN = re.compile(r"[0-9][.eE]")


def dumps(value: Any, indent: int = 2) -> str:
    return _dump(value, indent, 0)


def dumps_compact(value: Any) -> str:
    """`value` as one line of JSON, every Decimal written exactly; floats refused like `dumps`."""
    marked = 0

    def default(item: Any) -> Any:
        nonlocal marked
        if isinstance(item, Decimal):
            marked += 1
            return _MARK + _fixed(item)
        if isinstance(item, (datetime, date)):
            return item.isoformat()
        raise TypeError(f"{type(item).__name__} is not JSON serializable")

    text = json.dumps(value, default=default, allow_nan=False, separators=(",", ":"))
    if _MAYBE_FLOAT.search(text) and _FLOAT_TOKEN.search(_STRING.sub('""', text)):
        raise TypeError(_FLOAT_REFUSED)
    head, *marked_parts = text.split(_MARK_ENCODED)
    if len(marked_parts) != marked:  # a stored string looked like a stand-in: take the slow, exact path
        return dumps(value, indent=0)
    # Each part starts with the digits, then the stand-in's closing quote.
    return head + "".join(part.replace('"', "", 1) for part in marked_parts)


# Prices repeat across a catalog. Equal Decimals share an entry ("1.0" and "1"), and print alike.
@lru_cache(maxsize=65536)
def _fixed(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} cannot be written as a JSON number")
    return to_fixed_point(value)


def _dump(value: Any, indent: int, depth: int) -> str:
    if isinstance(value, Decimal):
        return _fixed(value)
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
        raise TypeError(_FLOAT_REFUSED)
    return json.dumps(value)
