"""A catalog history with exactly one change of each kind, made by real loads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.db.price_holds import accept_pending
from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame
from catalog_pipeline.providers import adapter_for

OPENROUTER = adapter_for("openrouter").SPEC
GROQ = adapter_for("groq").SPEC


def model(model_id: str, prompt: str = "0.000001", **fields) -> ModelRecord:
    return ModelRecord(model_id, pricing_prompt=Decimal(prompt), pricing_completion=Decimal("0.000002"), **{"context_length": 8192, **fields})


def load(engine, spec, *records, dry_run=False, run_id=None):
    return load_provider_models(engine, spec, records_to_frame(list(records)), dry_run=dry_run, run_id=run_id)


def produce_one_change_of_each_kind(url: str) -> None:
    """OpenRouter: added 4, changed 2 (context_length, expiration_date), delisted 2 (one dropped,
    one marked inactive), relisted 2, price_held 1 (detected twice: still one row), price_accepted 1.
    Then Groq: added 1. 13 changes in all."""
    engine = catalog_engine(url)
    a, b, c, d = model("m/a"), model("m/b"), model("m/c"), model("m/d")
    assert load(engine, OPENROUTER, a, b, c, run_id="run-1").changes == {"added": 3}
    assert load(engine, OPENROUTER, a, b, c, run_id="run-1b").changes == {}
    load(engine, OPENROUTER, a, b, c, dry_run=True)  # a dry run writes no change either
    changed_a = model("m/a", context_length=16384, expiration_date=date(2030, 12, 1))
    report = load(engine, OPENROUTER, changed_a, b, model("m/c", is_active=False), d, run_id="run-2")
    assert report.changes == {"changed": 2, "delisted": 1, "added": 1}
    report = load(engine, OPENROUTER, changed_a, b, model("m/c"), run_id="run-3")
    assert report.changes == {"relisted": 1, "delisted": 1}
    held = load(engine, OPENROUTER, changed_a, model("m/b", prompt="0.01"), model("m/c"), d, run_id="run-4")
    assert held.changes == {"price_held": 1, "relisted": 1}
    again = load(engine, OPENROUTER, changed_a, model("m/b", prompt="0.01"), model("m/c"), d, run_id="run-5")
    assert again.changes == {}
    accept_pending(engine, "openrouter")
    load(engine, GROQ, model("g/x"), run_id="run-g")
