"""What one catalog row can hold, checked in the normalizer before the load.

A value the database would refuse fails the whole transaction, and with it the provider, for as
long as the provider lists it. So each record is brought within the strictest of SQLite's and
PostgreSQL's limits here; what cannot be made storable skips its entry with the reason. One rule
per kind of column:

- the id (`provider_model_id`) names the model, so it is never altered: a NUL, a lone surrogate
  or more than `MAX_ID_LENGTH` characters skips the entry;
- free text (`model_name`, `description`) and every string in a JSON column (`metadata`,
  `input_modalities`, `output_modalities`; keys too) is cleaned: NUL removed, each lone surrogate
  replaced by U+FFFD;
- labels with a declared width (`modality`, `health_status`) are cleaned like text, and one longer
  than its column skips the entry (cut short it would be a different label);
- integers must fit BIGINT;
- prices must be finite, with at most `PRICE_MAX_INTEGER_DIGITS` digits before the point and
  `PRICE_MAX_FRACTION_DIGITS` after it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import orjson

from .records import PRICE_COLUMNS, ModelRecord, SkipModel

# 512 characters are at most 2,048 UTF-8 bytes: under PostgreSQL's 2,704-byte btree entry limit
# for the (provider_id, provider_model_id) unique index, which a 1 MB id exceeded.
MAX_ID_LENGTH = 512
# The widths db/schema.py declares (VARCHAR on PostgreSQL; a test keeps them in step).
LABEL_WIDTHS = {"modality": 128, "health_status": 32}
BIGINT_RANGE = (-(2**63), 2**63 - 1)
# NUMERIC(48, 30): ample for a price per token (a 15-digit price per 1M tokens needs 21 places),
# and its plain text (at most 49 characters) fits SQLite's 64-character price column.
PRICE_MAX_INTEGER_DIGITS = 18
PRICE_MAX_FRACTION_DIGITS = 30
INTEGER_COLUMNS = ("context_length", "max_output_tokens")
TEXT_COLUMNS = ("model_name", "description")
JSON_COLUMNS = ("metadata", "input_modalities", "output_modalities")

# PostgreSQL refuses NUL in text and JSON; neither database can encode a lone surrogate as UTF-8.
_UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")
_SHOWN_CHARACTERS = 60


def make_storable(record: ModelRecord) -> None:
    """Clean `record` in place, or raise `SkipModel` naming the value the catalog cannot hold."""
    _check_id(record.provider_model_id)
    for column in TEXT_COLUMNS:
        value = getattr(record, column)
        if isinstance(value, str):
            setattr(record, column, clean_text(value))
    for column, width in LABEL_WIDTHS.items():
        value = getattr(record, column)
        if isinstance(value, str):
            value = clean_text(value)
            if len(value) > width:
                raise SkipModel(f"{column} has {len(value)} characters, the catalog keeps at most {width}: {shown(value)}")
            setattr(record, column, value)
    for column in JSON_COLUMNS:
        setattr(record, column, clean_json(getattr(record, column)))
    for column in INTEGER_COLUMNS:
        value = getattr(record, column)  # an int or an integral Decimal, as the normalizer checked
        if value is not None and not BIGINT_RANGE[0] <= value <= BIGINT_RANGE[1]:
            raise SkipModel(f"{column} {shown(value)} does not fit a 64-bit integer (BIGINT)")
    for column in PRICE_COLUMNS:
        value = getattr(record, column)
        if value is not None and (problem := price_problem(value)):
            raise SkipModel(f"{column} {shown(value)} {problem}")


def _check_id(model_id: str) -> None:
    if _UNSTORABLE_CHARACTER.search(model_id):
        raise SkipModel(f"the id {shown(model_id)} contains a NUL character or a lone surrogate")
    if len(model_id) > MAX_ID_LENGTH:
        raise SkipModel(f"the id has {len(model_id)} characters, the catalog keeps at most {MAX_ID_LENGTH}: {shown(model_id)}")


def clean_text(text: str) -> str:
    if not _UNSTORABLE_CHARACTER.search(text):
        return text
    return _UNSTORABLE_CHARACTER.sub(lambda match: "" if match.group() == "\x00" else "\ufffd", text)


def clean_json(value: Any) -> Any:
    """`value` with every string in it, keys too, cleaned like text.

    Nearly every document has nothing to clean, and walking it in Python cost a fifth of a
    provider's normalizing. orjson spells it first: it refuses a lone surrogate (and a non-string
    key, an integer beyond 64 bits, any type it does not know), and spells a NUL `\\u0000`. A
    document it spells without one is kept as it is; any other is walked."""
    if isinstance(value, (dict, list)):
        try:
            if b"\\u0000" not in orjson.dumps(value, option=orjson.OPT_PASSTHROUGH_SUBCLASS):
                return value
        except TypeError:  # orjson.JSONEncodeError is one
            pass
    return _cleaned_json(value)


def _cleaned_json(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: _cleaned_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_cleaned_json(item) for item in value]
    return value


def price_problem(value: Decimal) -> str | None:
    """Why the catalog cannot store this price exactly, or None."""
    if not value.is_finite():
        return "is not a finite number"
    if not value:
        return None
    _, digits, exponent = value.as_tuple()
    coefficient = "".join(map(str, digits))
    significant = coefficient.rstrip("0")
    exponent += len(coefficient) - len(significant)  # trailing zeros are no precision
    integer_digits = max(0, len(significant) + exponent)
    fraction_digits = max(0, -exponent)
    if integer_digits > PRICE_MAX_INTEGER_DIGITS:
        return f"has {integer_digits} digits before the decimal point, the catalog keeps at most {PRICE_MAX_INTEGER_DIGITS}"
    if fraction_digits > PRICE_MAX_FRACTION_DIGITS:
        return f"has {fraction_digits} digits after the decimal point, the catalog keeps at most {PRICE_MAX_FRACTION_DIGITS}"
    return None


def shown(value: Any) -> str:
    """A value as a skip reason quotes it: escaped, and cut to a readable length."""
    if isinstance(value, int) and value.bit_length() > 200:
        return f"<a {value.bit_length()}-bit integer>"
    text = ascii(value) if isinstance(value, str) else str(value)
    if len(text) <= _SHOWN_CHARACTERS:
        return text
    return f"{text[:_SHOWN_CHARACTERS]}... ({len(text)} characters)"
