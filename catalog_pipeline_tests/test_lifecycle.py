"""Lifecycle dates: every shape providers send, the real OpenRouter sample, bad values named."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.pipeline.lifecycle import lifecycle_date
from catalog_pipeline.pipeline.normalize import normalize
from catalog_pipeline.pipeline.records import ModelRecord, SkipModel
from catalog_pipeline.providers import adapter_for

from .catalog_snapshot import models_by_id
from .conftest import FIXTURES, shared_sample


@pytest.mark.parametrize("value,expected", [
    ("2026-02-06", date(2026, 2, 6)),
    ("2026-02-06T23:30:00Z", date(2026, 2, 6)),
    ("2026-02-06T23:30:00-05:00", date(2026, 2, 7)),  # that moment is already the 7th in UTC
    (1767225600, date(2026, 1, 1)),
    ({"year": 2026, "month": 3, "day": 31}, date(2026, 3, 31)),
    (None, None),
    ("", None),
])
def test_lifecycle_dates_in_every_published_shape(value, expected):
    assert lifecycle_date(value, field="expiration_date") == expected


@pytest.mark.parametrize("value", ["soon", "2026-02-30", True, -5, {"year": 2026}, [2026, 1, 1], {"year": "x", "month": 1, "day": 1}])
def test_a_malformed_date_names_its_field(value):
    with pytest.raises(SkipModel, match="expiration_date is not a date"):
        lifecycle_date(value, field="expiration_date")


def test_openrouter_expiration_dates_from_the_real_sample():
    payload = json.loads(shared_sample("openrouter.json").read_text())
    result = normalize(adapter_for("openrouter"), [("https://openrouter.ai/api/v1/models", payload)])
    assert result.skipped == []
    published = {m["id"]: m.get("expiration_date") for m in payload["data"]}
    dated = {row["provider_model_id"]: row["expiration_date"] for _, row in result.frame.iterrows() if row["expiration_date"] is not None}
    assert dated and dated == {k: date.fromisoformat(v) for k, v in published.items() if v}


def test_a_malformed_expiration_date_skips_the_entry_and_loses_nothing(catalog_url):
    payload = json.loads((FIXTURES / "openrouter_models.json").read_text())
    module = adapter_for("openrouter")
    first = normalize(module, [("u", payload)])
    load_provider_models(catalog_engine(catalog_url), module.SPEC, first.frame)
    payload["data"][0]["expiration_date"] = "next spring"
    payload["data"][1]["expiration_date"] = "2027-03-01"
    second = normalize(module, [("u", payload)])
    assert second.skipped == ["acme/reasoner-large: expiration_date is not a date: 'next spring'"]
    load_provider_models(catalog_engine(catalog_url), module.SPEC, second.frame, force=True)
    rows = models_by_id(catalog_url, "openrouter")
    assert len(rows) == len(payload["data"])  # the skipped model's row is kept (deactivated, not deleted)
    assert rows["tiny/edge-1b"]["expiration_date"] == date(2027, 3, 1)
    assert rows["acme/reasoner-large"]["pricing_prompt"] == Decimal("0.000003")


def test_an_adapter_returning_a_non_date_is_skipped_with_the_field_named():
    class Adapter:
        SPEC = adapter_for("openrouter").SPEC

        @staticmethod
        def entries(pages):
            return [{"id": "a"}, {"id": "b"}]

        @staticmethod
        def transform(entry):
            return ModelRecord(entry["id"], deprecation_date="2026-01-01" if entry["id"] == "a" else date(2026, 1, 1))

    result = normalize(Adapter, [])
    assert result.skipped == ["a: deprecation_date is not a date: '2026-01-01'"]
    assert list(result.frame["provider_model_id"]) == ["b"]


def test_vercel_deprecated_at_becomes_the_deprecation_date():
    payload = json.loads((FIXTURES / "vercel-ai-gateway_models.json").read_text())
    result = normalize(adapter_for("vercel-ai-gateway"), [("u", payload)])
    dates = {row["provider_model_id"]: row["deprecation_date"] for _, row in result.frame.iterrows()}
    assert dates["voice/scribe"] == date(2026, 9, 21)  # deprecated_at 1790000000, unix seconds
    assert sum(d is not None for d in dates.values()) == 1
