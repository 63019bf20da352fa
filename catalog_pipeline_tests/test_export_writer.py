"""The compact writer the export files use: exact Decimals through the C encoder, floats refused,
and a stored string that looks like a Decimal's stand-in written as the string it is."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from catalog_pipeline.exports.writer import dumps_compact


@pytest.mark.parametrize("price", ["0.000000005", "5E-9", "0.00000125", "2.5999999999999996E-7", "0", "12345678901234567890.123456789"])
def test_compact_numbers_parse_back_to_the_same_decimal(price):
    document = {"p": Decimal(price), "list": [Decimal(price), None, True, 3, "x\"y", "a:1.5", "\\u0000D1"], "nested": {"q": [Decimal(price)]}}
    back = json.loads(dumps_compact(document), parse_float=Decimal, parse_int=Decimal)
    assert back == document


@pytest.mark.parametrize("value", [0.1, 1e-07, [2.5], {"k": {"n": 3.0}}])
def test_compact_refuses_floats(value):
    with pytest.raises(TypeError, match="Decimal end to end"):
        dumps_compact({"p": value, "name": "v1.5:2.0"})


def test_compact_keeps_a_string_that_looks_like_a_stand_in():
    document = {"model": "\x00D1.5", "p": Decimal("2.50")}
    assert json.loads(dumps_compact(document), parse_float=Decimal) == {"model": "\x00D1.5", "p": Decimal("2.5")}


def test_compact_refuses_infinity():
    with pytest.raises(ValueError):
        dumps_compact({"p": Decimal("Infinity")})
