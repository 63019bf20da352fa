"""A 64-bit fingerprint of each listed row, computed a whole column at a time.

Stored beside each model (`models.list_fingerprint`), it tells the load which rows of a list are
exactly what the catalog already holds without spelling them: only rows whose fingerprint differs
(or is unknown, NULL) are spelled, read in full and diffed field by field.

Equal fingerprints mean equal values (up to a 64-bit hash collision): a missing value hashes to a
constant, a string column hashes its strings, a column of Decimals only (or dates only) their
text under a key of its own, any other its values' `repr`, which tells the types apart (`None`,
`'None'`, `nan`, `Decimal('1')`, `1`, `True`); the columns are chained in order. The converse
does not always hold: a price is hashed by its value (`1.5` and `1.50` alike, as the load compares
and stores prices), but a JSON value by its spelling (its keys' order), so such a respelled list
only costs the diff of those rows, which finds them unchanged.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
from pandas._libs.hashing import hash_object_array
from pandas.core.util.hashing import combine_hash_arrays

from catalog_pipeline.pipeline.records import MODEL_COLUMNS, MODEL_FRAME_DTYPES, PRICE_COLUMNS

_KEY = "catalog-rows-v1!"  # SipHash key (16 bytes); a new key only makes every row diff once
# A column holding only Decimals (or only dates) is hashed from their plain text under a key of its
# own, so that Decimal("1") and "1" still hash apart.
_TYPED_KEYS = {"decimal": "catalog-decimal1", "date": "catalog-date-v1!"}
_PRICES = frozenset(PRICE_COLUMNS)
_MISSING = np.uint64(0x9E3779B97F4A7C15)


def row_fingerprints(frame: pd.DataFrame) -> np.ndarray:
    """One signed 64-bit fingerprint per row (as the database stores a BIGINT), over every column."""
    columns = (_column_hashes(frame[column], column) for column in MODEL_COLUMNS)
    return combine_hash_arrays(columns, len(MODEL_COLUMNS), len(frame)).view(np.int64)


def _column_hashes(series: pd.Series, column: str) -> np.ndarray:
    dtype = MODEL_FRAME_DTYPES[column]
    hashes = np.full(len(series), _MISSING, dtype=np.uint64)
    missing = series.isna().to_numpy()
    if missing.all():
        return hashes
    present = ~missing
    if dtype in ("Int64", "boolean"):
        hashes[present] = pd.util.hash_array(series.to_numpy(dtype="int64", na_value=0)[present], hash_key=_KEY, categorize=False)
        return hashes
    values = series.to_numpy(dtype=object)[present]
    if dtype == "string":
        hashes[present] = hash_object_array(values, _KEY, "utf8")  # str only: the dtype says so
        return hashes
    kind = pd.api.types.infer_dtype(values, skipna=False)
    texts, key = None, _TYPED_KEYS.get(kind, _KEY)
    if kind == "decimal" and column in _PRICES:
        try:  # by value, as the load compares prices: 1.25E-6, 0.00000125 and 0.0000012500 alike
            texts = list(map(str, map(Decimal.normalize, values)))
        except ArithmeticError:  # a signalling NaN
            key = _KEY
    elif kind == "date":
        texts = list(map(str, values))
    if texts is None:
        texts = list(map(repr, values))
    hashes[present] = hash_object_array(np.array(texts, dtype=object), key, "utf8")
    return hashes
