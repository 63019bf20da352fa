"""Guardrails: checks that stop broken answers, held price moves, crash and race safety,
bounded outages, and secrets that never get written anywhere."""

from __future__ import annotations

import copy
import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.db.price_holds import pending_changes
from catalog_pipeline.db.schema import models, raw_model_lists
from catalog_pipeline.defs.checks import model_ids_and_limits_are_valid, prices_are_plausible
from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame
from catalog_pipeline.providers import adapter_for

from .catalog_snapshot import catalog_state, models_by_id
from .cli_helpers import REPO, sync_models_in_process
from .conftest import FIXTURES
from .http_server import Reply, json_reply
from .load_worker import synthetic_frame
from .module_catalogs import openrouter_template, synced_openrouter  # noqa: F401 - fixtures
from .printed import everything_printed
from .sync_helpers import catalog_metadata, failure_message, materialize_provider

OPENROUTER = adapter_for("openrouter").SPEC


def openrouter_payload() -> dict:
    return json.loads((FIXTURES / "openrouter_models.json").read_text())


def serve(server, payload) -> None:
    server.route("/openrouter/models", json_reply(payload))


# --- checks -------------------------------------------------------------------------------


def test_prices_1000x_the_last_sync_are_stopped_before_the_tables(provider_env, synced_openrouter):
    catalog_url, payload = synced_openrouter, openrouter_payload()
    before = catalog_state(catalog_url)

    inflated = copy.deepcopy(payload)
    for model in inflated["data"]:
        for key, value in model["pricing"].items():
            if value not in ("0", "-1"):
                model["pricing"][key] = str(Decimal(value) * 1000)
    serve(provider_env, inflated)
    result = materialize_provider("openrouter", catalog_url)
    assert not result.success
    message = failure_message(result)
    assert "prices_are_plausible" in message and "unit error" in message
    assert catalog_state(catalog_url)["models"] == before["models"]
    assert not result.asset_materializations_for_node("model_catalog")


def test_check_functions_fail_on_the_bad_frames_they_guard():
    frame = records_to_frame(
        [
            ModelRecord("ok/model", pricing_prompt=Decimal("0.000001"), context_length=4096),
            ModelRecord("neg/model", pricing_completion=Decimal("-0.000001")),
            ModelRecord("unit/model", pricing_prompt=Decimal("1.25")),
            ModelRecord("dup/model"),
            ModelRecord("dup/model"),
            ModelRecord("zero/context", context_length=0),
            ModelRecord(" "),
        ]
    )
    prices = prices_are_plausible(frame)
    assert not prices.passed and prices.metadata["problems"].value == 2
    ids = model_ids_and_limits_are_valid(frame)
    assert not ids.passed and ids.metadata["problems"].value == 3
    good = records_to_frame([ModelRecord("ok/model", pricing_prompt=Decimal("0.000001"), context_length=4096)])
    assert prices_are_plausible(good).passed and model_ids_and_limits_are_valid(good).passed


def test_tenfold_and_paid_to_free_moves_are_held_until_accepted(provider_env, synced_openrouter):
    catalog_url, payload = synced_openrouter, openrouter_payload()

    moved = copy.deepcopy(payload)
    moved["data"][1]["pricing"]["prompt"] = "0.0000001"  # tiny/edge-1b: 0.000000005 -> 20x
    moved["data"][0]["pricing"]["completion"] = "0"  # acme/reasoner-large: paid -> free
    moved["data"][0]["pricing"]["prompt"] = "0.0000035"  # +17%: applied normally
    serve(provider_env, moved)
    result = materialize_provider("openrouter", catalog_url)
    assert result.success
    meta = catalog_metadata(result)
    assert meta["held_price_changes"] == 2
    assert {(h["model"], h["field"], h["kept"], h["pending"]) for h in meta["diff"]["held"]} == {
        ("tiny/edge-1b", "pricing_prompt", "0.000000005", "0.0000001"),
        ("acme/reasoner-large", "pricing_completion", "0.000015", "0"),
    }
    (check,) = [e for e in result.get_asset_check_evaluations() if e.asset_check_key.name == "price_changes_held"]
    assert not check.passed
    rows = models_by_id(catalog_url, "openrouter")
    assert rows["tiny/edge-1b"]["pricing_prompt"] == Decimal("0.000000005")
    assert rows["acme/reasoner-large"]["pricing_completion"] == Decimal("0.000015")
    assert rows["acme/reasoner-large"]["pricing_prompt"] == Decimal("0.0000035")
    assert len(pending_changes(catalog_engine(catalog_url), "openrouter")) == 2

    # A second sync with the same answer keeps them pending, without duplicates.
    assert catalog_metadata(materialize_provider("openrouter", catalog_url))["held_price_changes"] == 2
    assert len(pending_changes(catalog_engine(catalog_url), "openrouter")) == 2

    done = sync_models_in_process("--accept-pending", "openrouter", database_url=catalog_url)
    assert done.returncode == 0, done.stderr
    assert "tiny/edge-1b  pricing_prompt: 0.000000005 -> 0.0000001" in done.stdout
    rows = models_by_id(catalog_url, "openrouter")
    assert rows["tiny/edge-1b"]["pricing_prompt"] == Decimal("0.0000001")
    assert rows["acme/reasoner-large"]["pricing_completion"] == Decimal(0)
    assert pending_changes(catalog_engine(catalog_url)) == []
    meta = catalog_metadata(materialize_provider("openrouter", catalog_url))
    assert (meta["held_price_changes"], meta["updated"]) == (0, 0)


def test_a_held_price_that_comes_back_is_no_longer_pending(provider_env, sqlite_url):
    payload = openrouter_payload()
    serve(provider_env, payload)
    assert materialize_provider("openrouter", sqlite_url).success
    moved = copy.deepcopy(payload)
    moved["data"][1]["pricing"]["prompt"] = "0.000005"
    serve(provider_env, moved)
    assert catalog_metadata(materialize_provider("openrouter", sqlite_url))["held_price_changes"] == 1
    serve(provider_env, payload)
    assert catalog_metadata(materialize_provider("openrouter", sqlite_url))["held_price_changes"] == 0
    assert pending_changes(catalog_engine(sqlite_url)) == []


@pytest.mark.parametrize("answer", ["empty", "half"])
def test_shrink_guard_deactivates_nothing_until_forced(provider_env, synced_openrouter, answer):
    catalog_url, payload = synced_openrouter, openrouter_payload()
    short = {"data": [] if answer == "empty" else payload["data"][:2]}
    serve(provider_env, short)
    synced_before = catalog_state(catalog_url)["providers"][0]["last_synced_at"]

    done = sync_models_in_process("--providers", "openrouter", database_url=catalog_url)
    assert done.returncode == 1
    assert "check shrink_guard failed: shrink guard: openrouter listed" in done.stdout
    assert all(row["is_active"] for row in models_by_id(catalog_url, "openrouter").values())
    assert catalog_state(catalog_url)["providers"][0]["last_synced_at"] == synced_before  # not a success

    forced = sync_models_in_process("--providers", "openrouter", "--force", database_url=catalog_url)
    assert forced.returncode == 0, forced.stdout
    active = {k for k, row in models_by_id(catalog_url, "openrouter").items() if row["is_active"]}
    assert active == {m["id"] for m in short["data"]}


# --- atomic loads and races ---------------------------------------------------------------


# Big enough that the load is a real bulk write (COPY staging, one UPDATE over thousands of rows);
# the kill's timing comes from a held row lock, not from the size.
BULK_ROWS = 5_000


def test_sigkill_in_the_middle_of_a_bulk_update_leaves_the_provider_as_before(postgres_url):
    import psycopg

    engine = catalog_engine(postgres_url)
    load_provider_models(engine, OPENROUTER, synthetic_frame(BULK_ROWS, Decimal("0.000001")))
    before = catalog_state(postgres_url)
    plain_url = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    last_id = synthetic_frame(1, Decimal(0), first=BULK_ROWS - 1)["provider_model_id"].iloc[0]
    # The load's one UPDATE reaches the last model last (ids follow the insert order): holding
    # that row stops the statement there, with every row before it rewritten, until the kill.
    with psycopg.connect(plain_url) as blocker, psycopg.connect(plain_url, autocommit=True) as watcher:
        blocker.execute("SELECT 1 FROM models WHERE provider_model_id = %s FOR UPDATE", (last_id,))
        worker = subprocess.Popen(
            [sys.executable, "-m", "catalog_pipeline_tests.load_worker", postgres_url + "?application_name=catalog_load_worker",
             str(BULK_ROWS), "0.0000011"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        rewritten = None
        deadline = time.monotonic() + 120
        while rewritten is None and worker.poll() is None and time.monotonic() < deadline:
            # Old versions the worker's open transaction has replaced carry its id in xmax.
            rewritten = watcher.execute(
                "SELECT (SELECT count(*) FROM models WHERE xmax = a.backend_xid) FROM pg_stat_activity a"
                " WHERE a.application_name = 'catalog_load_worker' AND a.state = 'active'"
                " AND a.query ILIKE '%UPDATE models AS m SET%' AND a.wait_event_type = 'Lock'"
            ).fetchone() or time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        blocker.rollback()  # the server then sees its client gone and rolls the load back
        assert rewritten == (BULK_ROWS - 1,), (rewritten, worker.stderr.read())
        assert worker.returncode == -signal.SIGKILL
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and watcher.execute(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = 'catalog_load_worker'"
        ).fetchone():
            time.sleep(0.05)
    assert catalog_state(postgres_url) == before
    # And nothing is left locked: the next load goes through completely.
    report = load_provider_models(engine, OPENROUTER, synthetic_frame(BULK_ROWS, Decimal("0.0000011")))
    assert len(report.diff.updated) == BULK_ROWS


@pytest.mark.parametrize("first_sync", [True, False])
def test_two_concurrent_loads_of_one_provider_serialize(catalog_url, first_sync):
    engine = catalog_engine(catalog_url)
    frame_a = _frame(range(0, 1000), "0.000001")
    frame_b = _frame(range(500, 1500), "0.000002")
    if not first_sync:
        load_provider_models(engine, OPENROUTER, _frame(range(0, 1000), "0.0000015"))
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def load(frame: pd.DataFrame) -> None:
        try:
            barrier.wait()
            load_provider_models(engine, OPENROUTER, frame)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(f,)) for f in (frame_a, frame_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    rows = models_by_id(catalog_url, "openrouter")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(models)).scalar() == 1500 == len(rows)
    active = {k for k, r in rows.items() if r["is_active"]}
    winner = set(frame_a["provider_model_id"]) if active == set(frame_a["provider_model_id"]) else set(frame_b["provider_model_id"])
    assert active == winner, "the final list must be exactly one of the two answers"
    prices = {r["pricing_prompt"] for k, r in rows.items() if k in winner}
    assert len(prices) == 1  # no row of the winner kept the loser's price (no lost update)


def _frame(ids: range, price: str) -> pd.DataFrame:
    return records_to_frame([ModelRecord(f"m/{i}", pricing_prompt=Decimal(price)) for i in ids])


# --- outages ------------------------------------------------------------------------------


def test_connection_refused_fails_with_cause_and_keeps_rows(provider_env, sqlite_url, monkeypatch):
    serve(provider_env, openrouter_payload())
    assert materialize_provider("openrouter", sqlite_url).success
    before = catalog_state(sqlite_url)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    monkeypatch.setenv("OPENROUTER_BASE_URL", f"http://127.0.0.1:{closed_port}/api/v1")
    result = materialize_provider("openrouter", sqlite_url)
    assert not result.success
    assert "connection failed (ConnectError" in failure_message(result)
    assert catalog_state(sqlite_url) == before


def test_429_storm_is_bounded_by_attempts(provider_env, sqlite_url):
    provider_env.route("/openrouter/models", json_reply({"error": "rate limited"}, status=429, **{"Retry-After": "0"}))
    result = materialize_provider("openrouter", sqlite_url)
    assert not result.success
    assert "HTTP 429" in failure_message(result) and "after 3 attempts" in failure_message(result)
    assert provider_env.hits("/openrouter/models") == 3


def test_retry_after_beyond_the_budget_gives_up_at_once(provider_env, sqlite_url):
    provider_env.route("/openrouter/models", json_reply({"error": "come back tomorrow"}, status=503, **{"Retry-After": "86400"}))
    result = materialize_provider("openrouter", sqlite_url)
    assert not result.success
    assert "retry budget of 10s exhausted" in failure_message(result)
    assert provider_env.hits("/openrouter/models") == 1


def test_slow_answers_time_out_and_the_other_providers_sync(provider_env, sqlite_url):
    provider_env.route("/openrouter/models", Reply(status=200, body="{}", delay=3.0))
    provider_env.route("/deepinfra/models", json_reply(json.loads((FIXTURES / "deepinfra_models.json").read_text())))
    slow = materialize_provider("openrouter", sqlite_url)
    assert not slow.success and "timed out" in failure_message(slow)
    assert materialize_provider("deepinfra", sqlite_url).success


# --- secrets ------------------------------------------------------------------------------


def test_provider_keys_are_never_written_anywhere(provider_env, sqlite_url, monkeypatch, capfd, caplog, recwarn):
    secrets = {slug: f"SECRET-{slug.upper()}-7f3a9c1e5b" for slug in ("openrouter", "deepinfra", "groq")}
    for slug, secret in secrets.items():
        monkeypatch.setenv(adapter_for(slug).SPEC.api_key_env_var, secret)
    serve(provider_env, openrouter_payload())
    provider_env.route("/deepinfra/models", json_reply(json.loads((FIXTURES / "deepinfra_models.json").read_text())))
    # A provider that echoes the key it was sent in its error body.
    provider_env.route("/groq/models", json_reply({"error": f"invalid api key: Bearer {secrets['groq']}"}, status=401))
    done = sync_models_in_process("--providers", "openrouter", "deepinfra", "groq", "--verbose", database_url=sqlite_url)
    assert done.returncode == 1
    assert "groq" in done.stdout and "HTTP 401" in done.stdout
    assert provider_env.requests[0].headers["Authorization"].startswith("Bearer SECRET-")  # keys were really used

    written = [everything_printed(done, capfd, caplog, recwarn).encode()]
    for root in (Path(os.environ["DAGSTER_HOME"]), Path(sqlite_url.removeprefix("sqlite:///")).parent):
        written += [p.read_bytes() for p in root.rglob("*") if p.is_file()]
    with catalog_engine(sqlite_url).connect() as conn:
        written += [gzip.decompress(b) for b in conn.execute(select(raw_model_lists.c.pages_gzip)).scalars() if b]
    for secret in secrets.values():
        assert not any(secret.encode() in blob for blob in written), f"{secret} was written somewhere"
