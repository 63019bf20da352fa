"""A 64-bit fingerprint of each listed row, computed a whole column at a time.

Stored beside each model (`models.list_fingerprint`), it tells the load which rows of a list are
exactly what the catalog already holds without spelling them: only rows whose fingerprint differs
(or is unknown, NULL) are spelled, read in full and diffed field by field.

Equal fingerprints mean equal values (up to a 64-bit hash collision): a missing value (what the
load stores as NULL) hashes to a constant, a string column hashes its strings, a column of prices
only their normalized text, of dates only their text, each under a key of its own; any other
column its values as `marshal` writes them, which tells the types apart. The columns are chained
in order. The converse does not always hold: a price is hashed
by its value (`1.5` and `1.50` alike, as the load compares and stores prices), but a JSON value by
its spelling (its keys' order), so such a respelled list only costs the diff of those rows, which
finds them unchanged.
"""

from __future__ import annotations

import marshal
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd
from pandas._libs.hashing import hash_object_array
from pandas.core.util.hashing import combine_hash_arrays

from catalog_pipeline.pipeline.money import EXACT
from catalog_pipeline.pipeline.records import MODEL_COLUMNS, MODEL_FRAME_DTYPES, PRICE_COLUMNS

# SipHash keys (16 bytes): a column of prices only (or dates only) is hashed under a key of its own,
# so that Decimal("1") and "1", or date(2000, 1, 1) and "2000-01-01", still hash apart. A new key
# only makes every row diff once.
_KEYS = {"any": "catalog-rows-v1!", "decimal": "catalog-decimal1", "date": "catalog-date-v1!"}
_PRICES = frozenset(PRICE_COLUMNS)
_TYPED = _PRICES | {"deprecation_date", "expiration_date"}  # the columns a typed text may apply to
_MISSING = np.uint64(0x9E3779B97F4A7C15)


def row_fingerprints(frame: pd.DataFrame) -> np.ndarray:
    """One signed 64-bit fingerprint per row (as the database stores a BIGINT), over every column."""
    columns = (_column_hashes(frame[column], column) for column in MODEL_COLUMNS)
    return combine_hash_arrays(columns, len(MODEL_COLUMNS), len(frame)).view(np.int64)


def _column_hashes(series: pd.Series, column: str) -> np.ndarray:
    dtype = MODEL_FRAME_DTYPES[column]
    missing = series.isna().to_numpy()
    if missing.all():
        return np.full(len(series), _MISSING, dtype=np.uint64)
    complete = not missing.any()  # most columns: hashed whole, with no mask
    if dtype in ("Int64", "boolean"):
        values = series.to_numpy(dtype="int64", na_value=0)
        return _placed(pd.util.hash_array(values if complete else values[~missing], hash_key=_KEYS["any"], categorize=False), missing, complete)
    values = series.to_numpy(dtype=object)
    if not complete:
        values = values[~missing]
    if dtype == "string":
        return _placed(hash_object_array(values, _KEYS["any"], "utf8"), missing, complete)  # str only: the dtype says so
    typed = _typed_texts(values, column) if column in _TYPED else None  # JSON columns hold lists and dicts
    texts, key = typed or (_serialized(values), _KEYS["any"])
    return _placed(hash_object_array(np.array(texts, dtype=object), key, "utf8"), missing, complete)


def _placed(present_hashes: np.ndarray, missing: np.ndarray, complete: bool) -> np.ndarray:
    """The hashes of the present values in their rows, a missing value's constant in the others."""
    if complete:
        return present_hashes
    hashes = np.full(len(missing), _MISSING, dtype=np.uint64)
    hashes[~missing] = present_hashes
    return hashes


def _serialized(values: np.ndarray) -> list[bytes]:
    """Each value as marshal writes it: exact about types (None, "None", NaN, 1, True and 1.0 all
    differ) and about values (it reads back equal), twice as fast as `repr`. Version 2 writes no
    back-references, which would depend on reference counts. What marshal cannot write (a Decimal
    in metadata, a date) is spelled by its type and repr, after a byte no marshal output starts with."""
    try:
        return list(map(marshal.dumps, values, repeat(2)))
    except ValueError:
        return [_serialized_value(value) for value in values]


def _serialized_value(value: Any) -> bytes:
    try:
        return marshal.dumps(value, 2)
    except ValueError:
        return b"\0" + f"{type(value).__module__}.{type(value).__qualname__}:{value!r}".encode("utf-8", "surrogatepass")


def _typed_texts(values: np.ndarray, column: str) -> tuple[list[str], str] | None:
    """Plain text and the key of its type, for a column of prices only or of dates only."""
    kind = pd.api.types.infer_dtype(values, skipna=False)
    if kind == "date":
        return list(map(str, values)), _KEYS["date"]
    if kind == "decimal" and column in _PRICES:
        try:  # by value, as the load compares prices: 1.25E-6, 0.00000125 and 0.0000012500 alike
            return list(map(str, map(EXACT.normalize, values))), _KEYS["decimal"]
        except ArithmeticError:  # a signalling NaN: its repr
            return None
    return None
