"""The normalized frame as text, column by column: one pass per column, no Python dict per row.

Each value becomes its PostgreSQL `COPY` text: `\\N` for NULL; backslash, tab, newline and
carriage return escaped; Decimals in fixed point (`1.25E-6` and `0.00000125` spell alike); JSON
with sorted keys. That spelling is one-to-one per column, so it serves twice: the content hash
of a row is the SHA-1 of its hashed columns' text, and an insert on PostgreSQL is those lines
sent to `COPY ... FROM STDIN` as they are.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Sequence

import orjson
import pandas as pd

from catalog_pipeline.pipeline.money import to_fixed_point
from catalog_pipeline.pipeline.records import MODEL_COLUMNS, MODEL_FRAME_DTYPES, PRICE_COLUMNS

from .jsonable import jsonable

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
JSON_COLUMNS = frozenset({"input_modalities", "output_modalities", "metadata"})
_PRICES = frozenset(PRICE_COLUMNS)
CONTENT_COLUMNS = tuple(c for c in MODEL_COLUMNS if c != "provider_model_id")
# is_active is compared on its own: deactivating a row must not have to rewrite its hash.
HASHED_COLUMNS = tuple(c for c in CONTENT_COLUMNS if c != "is_active")


def escaped(value: str) -> str:
    return value.translate(_ESCAPES)


def _escaped_json(text: str) -> str:
    # JSON text holds no raw tab or newline (json escapes them), so only a backslash needs COPY's escape.
    return text.replace("\\", "\\\\") if "\\" in text else text


def json_text(value: Any) -> str:
    """The JSON the catalog stores for a value (see db/jsonable.py), keys sorted.

    orjson spells plain values ten times faster than `json`; what it would spell differently from
    `jsonable` (non-string keys, integers beyond 64 bits, NaN as null) takes the exact path. A
    value always takes the same path, so its text never changes between syncs."""
    try:
        text = orjson.dumps(value, default=jsonable, option=orjson.OPT_SORT_KEYS)
        if b"null" not in text:
            return text.decode()
    except TypeError:  # orjson.JSONEncodeError is one
        pass
    return json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"))


def scalar_text(value: Any) -> str:
    """One Python value as COPY text (the change feed's and history's columns)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        return escaped(json_text(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return escaped(to_fixed_point(value) if hasattr(value, "as_tuple") else str(value))


def _price_text(value: Any) -> str:
    return NULL if value is None else to_fixed_point(value)


def _metadata_text(value: Any) -> str:
    return _escaped_json(json_text(value or {}))  # an absent metadata object is stored as {}


def _json_text(value: Any) -> str:
    return NULL if value is None else _escaped_json(json_text(value))


def _bool_text(value: Any) -> str:
    return NULL if value is None else ("t" if value else "f")


def _int_text(value: Any) -> str:
    return NULL if value is None else str(int(value))


def _string_text(value: Any) -> str:
    return NULL if value is None else value.translate(_ESCAPES)


def _encoder(column: str):
    if column in _PRICES:
        return _price_text
    if column == "metadata":
        return _metadata_text
    if column in JSON_COLUMNS:
        return _json_text
    return {"boolean": _bool_text, "Int64": _int_text, "string": _string_text}.get(MODEL_FRAME_DTYPES.get(column), scalar_text)


def value_text(column: str, value: Any) -> str:
    """One value of a model column, spelled as `column_text` spells it in a frame."""
    return _encoder(column)(value)


def column_text(frame: pd.DataFrame, column: str) -> list[str]:
    values = frame[column].to_numpy(dtype=object, na_value=None)
    encode = _encoder(column)
    if encode is _json_text:  # few distinct lists (the modalities): spell each once
        spelled: dict[Any, str] = {}
        out = []
        for v in values:
            key = _string_tuple(v)
            text = spelled.get(key) if key is not None else None
            if text is None:
                text = encode(v)
                if key is not None:
                    spelled[key] = text
            out.append(text)
        return out
    # The common encoders inline: a function call per value is a third of the time.
    if encode is _price_text:
        return [NULL if v is None else to_fixed_point(v) for v in values]
    if encode is _int_text:
        return [NULL if v is None else str(int(v)) for v in values]
    if encode is _bool_text:
        return [NULL if v is None else ("t" if v else "f") for v in values]
    if encode is _string_text and not _needs_escaping(values):
        return [NULL if v is None else v for v in values]
    return [encode(v) for v in values]


def _string_tuple(value: Any) -> tuple[str, ...] | None:
    """The list as a tuple when it holds only strings (a memo key no other list shares), else None."""
    if type(value) is not list:
        return None
    try:
        "".join(value)  # TypeError unless every element is a str
    except TypeError:
        return None
    return tuple(value)


def _needs_escaping(values) -> bool:
    joined = "".join(v for v in values if v is not None)
    return any(special in joined for special in "\\\t\n\r")


def frame_text(frame: pd.DataFrame, columns: Iterable[str]) -> dict[str, list[str]]:
    return {column: column_text(frame, column) for column in columns}


def row_hashes(texts: dict[str, list[str]], columns: Sequence[str]) -> list[str]:
    """SHA-1 of each row's text in `columns` (tab-separated: a tab inside a value is escaped)."""
    return [hashlib.sha1("\t".join(row).encode()).hexdigest() for row in zip(*(texts[c] for c in columns))]


def copy_lines(
    texts: dict[str, list[str]], columns: Sequence[str], positions: Sequence[int] | None = None, suffix: str = ""
) -> bytes:
    """`COPY ... FROM STDIN` text of the rows at `positions` (each column's text indexed by
    position), or of every row when None; each line ending with `suffix` (the tab-joined text of
    columns equal on every row)."""
    columns_text = [texts[c] for c in columns]
    rows = zip(*columns_text) if positions is None else ([values[i] for values in columns_text] for i in positions)
    end = f"\t{suffix}\n" if suffix else "\n"
    return "".join("\t".join(row) + end for row in rows).encode()


def copy_rows(rows: Iterable[Sequence[Any]], json_positions: Sequence[int] = (), suffix: str = "") -> bytes:
    """COPY text of rows of Python values, each line ending with `suffix` (see `copy_lines`).
    The values at `json_positions` go to JSON columns: None is SQL NULL there, any other value
    its JSON text."""
    end = f"\t{suffix}\n" if suffix else "\n"
    lines = []
    for row in rows:
        cells = [NULL if v is None else (v.translate(_ESCAPES) if type(v) is str else scalar_text(v)) for v in row]
        for i in json_positions:
            if row[i] is not None:
                cells[i] = escaped(json_text(row[i]))
        lines.append("\t".join(cells) + end)
    return "".join(lines).encode()


def copy_columns(columns: Sequence[Sequence[Any]]) -> bytes:
    """COPY text of rows given column by column (plain values: None is NULL), each column spelled
    whole: a column of strings is escaped only when some value needs it."""
    texts = [_plain_column_text(values) for values in columns]
    return "".join([line + "\n" for line in map("\t".join, zip(*texts))]).encode()


def _plain_column_text(values: Sequence[Any]) -> list[str]:
    if all(type(v) is str or v is None for v in values):
        if _needs_escaping(values):
            return [NULL if v is None else v.translate(_ESCAPES) for v in values]
        return [NULL if v is None else v for v in values]
    return [NULL if v is None else (str(v) if type(v) is int else scalar_text(v)) for v in values]


def content_hash(row: dict[str, Any]) -> str:
    """Equal for equal content whatever the Decimal spelling (1.25E-6 and 0.00000125 hash alike);
    the same digest the load computes for the row in a frame (`row_hashes` over `HASHED_COLUMNS`)."""
    return hashlib.sha1("\t".join(value_text(c, row[c]) for c in HASHED_COLUMNS).encode()).hexdigest()
