"""Price history: one period per constant price, written with the load; price_at and the CLI."""

from __future__ import annotations

import copy
import json
from datetime import timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from catalog_pipeline import price_at, price_history
from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.db.price_holds import accept_pending
from catalog_pipeline.db.schema import model_price_history
from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame
from catalog_pipeline.providers import adapter_for

from .catalog_cli import catalog_json, run_catalog
from .conftest import FIXTURES
from .http_server import json_reply
from .sync_helpers import catalog_metadata, materialize_provider

OPENROUTER = adapter_for("openrouter").SPEC


def history_rows(url: str) -> int:
    with catalog_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(model_price_history)).scalar()


def test_three_syncs_with_one_price_change_give_one_new_period(provider_env, catalog_url):
    payload = json.loads((FIXTURES / "openrouter_models.json").read_text())
    provider_env.route("/openrouter/models", json_reply(payload))
    assert catalog_metadata(materialize_provider("openrouter", catalog_url))["changes"] == {"added": len(payload["data"])}
    first = history_rows(catalog_url)
    assert first == len(payload["data"])  # one open period per new model
    assert materialize_provider("openrouter", catalog_url).success
    assert history_rows(catalog_url) == first  # an unchanged sync adds none

    cheaper = copy.deepcopy(payload)
    cheaper["data"][0]["pricing"]["prompt"] = "0.0000025"  # acme/reasoner-large: 0.000003 -> 0.0000025
    provider_env.route("/openrouter/models", json_reply(cheaper))
    assert catalog_metadata(materialize_provider("openrouter", catalog_url))["changes"] == {"changed": 1}
    assert history_rows(catalog_url) == first + 1

    old, new = price_history("openrouter", "acme/reasoner-large", database_url=catalog_url)
    assert old["valid_to"] == new["valid_from"] and new["valid_to"] is None
    assert (old["pricing_prompt"], new["pricing_prompt"]) == (Decimal("0.000003"), Decimal("0.0000025"))
    assert old["pricing_completion"] == new["pricing_completion"] == Decimal("0.000015")
    in_first = old["valid_from"] + (old["valid_to"] - old["valid_from"]) / 2
    in_second = new["valid_from"] + timedelta(days=30)
    assert price_at("openrouter", "acme/reasoner-large", in_first, database_url=catalog_url)["pricing_prompt"] == Decimal("0.000003")
    assert price_at("openrouter", "acme/reasoner-large", in_second, database_url=catalog_url)["pricing_prompt"] == Decimal("0.0000025")
    assert price_at("openrouter", "acme/reasoner-large", old["valid_from"] - timedelta(seconds=1), database_url=catalog_url) is None
    # Other models kept their one period.
    assert len(price_history("openrouter", "tiny/edge-1b", database_url=catalog_url)) == 1

    # The same answers from the command line, for a time in each period (one given with an offset).
    for when, prompt in ((in_first.astimezone(timezone(timedelta(hours=2))), "0.000003"), (in_second, "0.0000025")):
        shown = catalog_json("price-at", "openrouter", "acme/reasoner-large", "--at", when.isoformat(), database_url=catalog_url, in_process=True)
        assert shown["pricing_prompt"] == prompt and shown["pricing_completion"] == "0.000015"
    shown = catalog_json("price-at", "openrouter", "acme/reasoner-large", "--at", in_first.isoformat(), database_url=catalog_url, in_process=True)
    assert (shown["valid_from"], shown["valid_to"]) == (old["valid_from"].isoformat(), old["valid_to"].isoformat())
    periods = catalog_json("history", "openrouter", "acme/reasoner-large", database_url=catalog_url, in_process=True)
    assert [p["pricing_prompt"] for p in periods] == ["0.000003", "0.0000025"]
    table = run_catalog("history", "openrouter", "acme/reasoner-large", database_url=catalog_url, in_process=True)
    assert table.returncode == 0 and table.stdout.splitlines()[0].split()[:3] == ["valid_from", "valid_to", "pricing_prompt"]
    assert len(table.stdout.splitlines()) == 3
    before = run_catalog("price-at", "openrouter", "acme/reasoner-large", "--at", "2001-01-01", database_url=catalog_url, in_process=True)
    assert before.returncode == 1 and "first priced" in before.stderr
    missing = run_catalog("price-at", "openrouter", "no/such-model", database_url=catalog_url, in_process=True)
    assert missing.returncode == 1 and "not in the catalog" in missing.stderr


def _frame(prompt: str):
    return records_to_frame([ModelRecord("m/one", pricing_prompt=Decimal(prompt), pricing_completion=Decimal("0.000002"))])


def test_held_and_dry_run_changes_add_no_period_until_accepted(catalog_url):
    engine = catalog_engine(catalog_url)
    load_provider_models(engine, OPENROUTER, _frame("0.000001"), run_id="run-1")
    load_provider_models(engine, OPENROUTER, _frame("0.0000012"), dry_run=True)
    assert len(price_history("openrouter", "m/one", database_url=catalog_url)) == 1

    held = load_provider_models(engine, OPENROUTER, _frame("0.001"), run_id="run-2")  # 1000x: held
    assert len(held.diff.held) == 1
    assert len(price_history("openrouter", "m/one", database_url=catalog_url)) == 1

    accept_pending(engine, "openrouter")
    periods = price_history("openrouter", "m/one", database_url=catalog_url)
    assert [p["pricing_prompt"] for p in periods] == [Decimal("0.000001"), Decimal("0.001")]
    assert [p["run_id"] for p in periods] == ["run-1", None]
    assert periods[0]["valid_to"] == periods[1]["valid_from"]
    # Syncing the accepted price again changes nothing.
    load_provider_models(engine, OPENROUTER, _frame("0.001"))
    assert len(price_history("openrouter", "m/one", database_url=catalog_url)) == 2


def test_a_repriced_model_s_new_period_carries_its_load_s_time_and_run(catalog_url):
    """The load closes the open period and opens one at its own time, stamped with its run id,
    whatever that id holds (on PostgreSQL both are spelled into the statement, not bound)."""
    engine = catalog_engine(catalog_url)
    first = load_provider_models(engine, OPENROUTER, _frame("0.000001"), run_id="run-1")
    odd_run = "it's a run; \\ \"quoted\" -- not SQL"
    second = load_provider_models(engine, OPENROUTER, _frame("0.0000012"), run_id=odd_run)
    periods = price_history("openrouter", "m/one", database_url=catalog_url)
    assert [(p["pricing_prompt"], p["run_id"]) for p in periods] == [(Decimal("0.000001"), "run-1"), (Decimal("0.0000012"), odd_run)]
    assert (periods[0]["valid_from"], periods[0]["valid_to"]) == (first.synced_at, second.synced_at)
    assert (periods[1]["valid_from"], periods[1]["valid_to"]) == (second.synced_at, None)


def test_price_at_refuses_a_time_without_a_zone(sqlite_url):
    from datetime import datetime

    with pytest.raises(ValueError, match="timezone-aware"):
        price_at("openrouter", "m/one", datetime(2026, 1, 1), database_url=sqlite_url)
