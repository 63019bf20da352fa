"""Prices keep every digit the catalog can store (48 significant: 18 before the point, 30 after),
beyond the 28 that Decimal's default context rounds to: in a unit conversion, in the row
fingerprint, and so in what a load finds changed."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.fingerprint import row_fingerprints
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.db.schema import models
from catalog_pipeline.pipeline.money import per_million_tokens, scaled
from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame
from catalog_pipeline.pipeline.storable import price_problem
from catalog_pipeline.providers import adapter_for

# 48 significant digits, storable as they are: they differ only in the last one.
LONG = Decimal("123456789012345678.123456789012345678901234567890")
LONG_NEXT = Decimal("123456789012345678.123456789012345678901234567891")


def test_a_unit_conversion_keeps_every_digit() -> None:
    quoted = "123456789012.123456789012345678901234567"  # 39 significant digits, per 1M tokens
    assert per_million_tokens(quoted) == Decimal("123456.789012123456789012345678901234567")
    assert scaled(LONG, -6) == Decimal("123456789012.345678123456789012345678901234567890")
    assert price_problem(LONG) is None and price_problem(LONG_NEXT) is None


def test_prices_apart_only_in_their_48th_digit_have_other_fingerprints() -> None:
    frames = [records_to_frame([ModelRecord("m/long", pricing_prompt=price)]) for price in (LONG, LONG_NEXT)]
    assert row_fingerprints(frames[0])[0] != row_fingerprints(frames[1])[0]


def test_a_load_stores_a_change_in_a_prices_48th_digit(catalog_url: str) -> None:
    engine = catalog_engine(catalog_url)
    spec = adapter_for("openrouter").SPEC
    load_provider_models(engine, spec, records_to_frame([ModelRecord("m/long", pricing_prompt=LONG)]))
    report = load_provider_models(engine, spec, records_to_frame([ModelRecord("m/long", pricing_prompt=LONG_NEXT)]))
    old, new = report.diff.updated["m/long"]["pricing_prompt"]
    assert (Decimal(old), Decimal(new)) == (LONG, LONG_NEXT)
    with engine.connect() as conn:
        assert conn.execute(select(models.c.pricing_prompt)).scalar_one() == LONG_NEXT
