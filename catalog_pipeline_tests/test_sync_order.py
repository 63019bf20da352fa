"""A slow provider never holds back the others: each run starts as soon as its own fetch is done."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import dagster as dg

from catalog_pipeline import sync
from catalog_pipeline.definitions import defs as load_definitions
from catalog_pipeline.defs.resources import CatalogDatabase
from catalog_pipeline.sync import sync_providers

from .across_helpers import default_router_payload, groq_payload
from .catalog_snapshot import models_by_id
from .conftest import FIXTURES
from .http_server import json_reply

PATIENCE_SECONDS = 20


def _serve(server, slug: str, **reply_fields) -> None:
    reply = json_reply(json.loads((FIXTURES / f"{slug}_models.json").read_text()))
    server.route(f"/{slug}/models", dataclasses.replace(reply, **reply_fields))


def _wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        if condition():
            return True
        pause.wait(0.05)
    return condition()


def test_a_provider_whose_list_comes_first_is_loaded_before_a_slow_one_answers(provider_env, sqlite_url):
    # deepinfra sorts before groq; its server answers only once groq's rows are in the catalog,
    # which happens only if groq's run does not wait behind deepinfra's.
    seen = {}

    def answer_after_groq_is_loaded() -> None:
        seen["groq loaded first"] = _wait_until(lambda: bool(models_by_id(sqlite_url, "groq")), PATIENCE_SECONDS)

    _serve(provider_env, "deepinfra", before_answer=answer_after_groq_is_loaded)
    _serve(provider_env, "groq")
    with dg.DagsterInstance.ephemeral() as instance:
        outcomes = sync_providers(
            ["deepinfra", "groq"], instance=instance, definitions=load_definitions(),
            catalog_db=CatalogDatabase(url=sqlite_url),
        )
    assert seen == {"groq loaded first": True}, "groq's run waited for deepinfra's slow fetch"
    assert [(o.slug, o.status) for o in outcomes] == [("deepinfra", "ok"), ("groq", "ok")]  # reported in the order asked
    assert len(models_by_id(sqlite_url, "deepinfra")) == outcomes[0].counts["added"] > 0


def test_the_router_still_runs_first_when_its_fetch_is_the_slowest(provider_env, sqlite_url):
    # The router answers only once some provider's run has started. Run in fetch order, Groq's run
    # would be that one (its fetch is done) and load without the router's offers; the router's run
    # must come first, and Groq's price must come from it.
    with dg.DagsterInstance.ephemeral() as instance:

        def answer_once_a_run_started() -> None:
            _wait_until(lambda: bool(instance.get_runs(limit=1)), PATIENCE_SECONDS)

        provider_env.route("/groq/models", json_reply(groq_payload()))
        provider_env.route(
            "/huggingface/models", dataclasses.replace(json_reply(default_router_payload()), before_answer=answer_once_a_run_started)
        )
        outcomes = sync_providers(
            ["groq", "huggingface"], instance=instance, definitions=load_definitions(),
            catalog_db=CatalogDatabase(url=sqlite_url),
        )
        first_run = instance.get_runs()[-1]
    assert first_run.tags["dagster/partition"] == "huggingface"
    assert [(o.slug, o.status) for o in outcomes] == [("groq", "ok"), ("huggingface", "ok")]
    assert models_by_id(sqlite_url, "groq")["llama-3.3-70b-versatile"]["price_source"] == "huggingface-router"


def test_the_cross_provider_refresh_takes_in_the_others_while_the_last_fetch_is_under_way(provider_env, sqlite_url):
    # Groq answers only once a cross-provider run has started while its fetch was under way; that
    # run links DeepInfra's rows, and the one after Groq's run adds Groq's.
    with dg.DagsterInstance.ephemeral() as instance:

        def refreshed() -> list[dg.DagsterRun]:
            return [run for run in instance.get_runs() if run.job_name == "catalog_cross_provider"]

        _serve(provider_env, "deepinfra")
        _serve(provider_env, "groq", before_answer=lambda: _wait_until(lambda: bool(refreshed()), PATIENCE_SECONDS))
        outcomes = sync_providers(
            ["deepinfra", "groq"], instance=instance, definitions=load_definitions(),
            catalog_db=CatalogDatabase(url=sqlite_url),
        )
        runs = sorted(refreshed(), key=lambda run: instance.get_run_record_by_id(run.run_id).create_timestamp)
    assert [(o.slug, o.status) for o in outcomes] == [("deepinfra", "ok"), ("groq", "ok")]
    assert [run.tags["catalog/trigger"] for run in runs] == ["while-last-fetch", "after-sync"]
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
    linked = {row["provider_model_id"] for row in models_by_id(sqlite_url, "deepinfra").values() if row["canonical_model_id"]}
    assert linked and all(row["link_key"] for row in models_by_id(sqlite_url, "groq").values())


def test_enough_loaded_rows_are_taken_in_while_waiting_for_any_fetch(provider_env, sqlite_url, monkeypatch):
    # Groq's list is in first; DeepInfra answers only once a refresh has run while it was awaited
    # (allowed here for a single changed row), Together only once the one before the last run has.
    monkeypatch.setattr(sync, "IDLE_REFRESH_MIN_ROWS", 1)
    with dg.DagsterInstance.ephemeral() as instance:

        def refreshed(trigger: str) -> bool:
            return any(run.tags.get("catalog/trigger") == trigger for run in instance.get_runs())

        _serve(provider_env, "groq")
        _serve(provider_env, "deepinfra", before_answer=lambda: _wait_until(lambda: refreshed("while-fetching"), PATIENCE_SECONDS))
        _serve(provider_env, "together", before_answer=lambda: _wait_until(lambda: refreshed("while-last-fetch"), PATIENCE_SECONDS))
        outcomes = sync_providers(
            ["deepinfra", "groq", "together"], instance=instance, definitions=load_definitions(),
            catalog_db=CatalogDatabase(url=sqlite_url),
        )
        runs = [run for run in instance.get_runs() if run.job_name == "catalog_cross_provider"]
        order = sorted(runs, key=lambda run: instance.get_run_record_by_id(run.run_id).create_timestamp)
    assert [o.status for o in outcomes] == ["ok", "ok", "ok"]
    assert [run.tags["catalog/trigger"] for run in order] == ["while-fetching", "while-last-fetch", "after-sync"]


def test_a_refresh_that_fails_under_the_sync_fails_no_provider(provider_env, sqlite_url, monkeypatch, caplog):
    # The refresh while Groq's fetch is under way dies in the instance (not in a step, which its
    # run would record): both providers still sync, and the refresh after them takes their rows in.
    refresh = sync._refresh_cross_provider

    def storage_fails_while_fetching(definitions, instance, catalog_db, loggers, tags):
        if tags["catalog/trigger"] == "while-last-fetch":
            raise RuntimeError("database is locked (the instance's storage)")
        return refresh(definitions, instance, catalog_db, loggers, tags)

    monkeypatch.setattr(sync, "_refresh_cross_provider", storage_fails_while_fetching)
    caplog.set_level("WARNING", logger="catalog_pipeline.sync")
    with dg.DagsterInstance.ephemeral() as instance:
        _serve(provider_env, "deepinfra")
        _serve(provider_env, "groq", before_answer=lambda: _wait_until(lambda: "database is locked" in caplog.text, PATIENCE_SECONDS))
        outcomes = sync_providers(
            ["deepinfra", "groq"], instance=instance, definitions=load_definitions(),
            catalog_db=CatalogDatabase(url=sqlite_url),
        )
        runs = [run for run in instance.get_runs() if run.job_name == "catalog_cross_provider"]
    assert [(o.slug, o.status) for o in outcomes] == [("deepinfra", "ok"), ("groq", "ok")]
    assert "cross-provider refresh (while-last-fetch) failed" in caplog.text and "database is locked" in caplog.text
    assert [(run.tags["catalog/trigger"], run.status) for run in runs] == [("after-sync", dg.DagsterRunStatus.SUCCESS)]
    for slug in ("deepinfra", "groq"):
        assert all(row["link_key"] for row in models_by_id(sqlite_url, slug).values())
