"""A slow provider never holds back the others: each run starts as soon as its own fetch is done."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from datetime import timezone

import dagster as dg
from sqlalchemy import select

from catalog_pipeline import sync
from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.schema import providers
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

    def storage_fails_while_fetching(definitions, instance, catalog_db, loggers, tags, *rest):
        if tags["catalog/trigger"] == "while-last-fetch":
            raise RuntimeError("database is locked (the instance's storage)")
        return refresh(definitions, instance, catalog_db, loggers, tags, *rest)

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


def _refreshes(instance: dg.DagsterInstance) -> list[tuple[str, list[str]]]:
    """Each cross-provider run in order: its trigger and the assets it materialized."""
    runs = [run for run in instance.get_runs() if run.job_name in (sync.CROSS_PROVIDER_JOB, sync.EXPORT_JOB)]
    runs.sort(key=lambda run: instance.get_run_record_by_id(run.run_id).create_timestamp)
    materialized = dg.DagsterEventType.ASSET_MATERIALIZATION
    return [
        (run.tags["catalog/trigger"], sorted(e.dagster_event.asset_key.to_user_string() for e in instance.all_logs(run.run_id, of_type=materialized)))
        for run in runs
    ]


def _sync_with_groq_last(provider_env, instance, sqlite_url, monkeypatch) -> list:
    # Groq answers only once a refresh has run while its fetch was awaited.
    refreshed = threading.Event()
    refresh = sync._refresh_cross_provider

    def recorded(*args):
        try:
            return refresh(*args)
        finally:
            refreshed.set()

    monkeypatch.setattr(sync, "_refresh_cross_provider", recorded)
    _serve(provider_env, "deepinfra")
    _serve(provider_env, "groq", before_answer=lambda: refreshed.wait(PATIENCE_SECONDS))
    try:
        return sync_providers(["deepinfra", "groq"], instance=instance, definitions=load_definitions(), catalog_db=CatalogDatabase(url=sqlite_url))
    finally:
        monkeypatch.setattr(sync, "_refresh_cross_provider", refresh)


ALL_THREE = ["canonical_models", "catalog_export", "price_discrepancies"]


def _sync_times(url: str) -> dict[str, str]:
    with catalog_engine(url).connect() as conn:
        rows = conn.execute(select(providers.c.slug, providers.c.last_synced_at)).all()
    return {slug: (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).isoformat() for slug, at in rows}


def test_a_last_run_that_changed_no_row_refreshes_the_export_alone(provider_env, sqlite_url, tmp_path, monkeypatch):
    with dg.DagsterInstance.ephemeral() as first:
        _sync_with_groq_last(provider_env, first, sqlite_url, monkeypatch)
        assert _refreshes(first) == [("while-last-fetch", ALL_THREE), ("after-sync", ALL_THREE)]  # Groq's rows were new
    before = _sync_times(sqlite_url)
    with dg.DagsterInstance.ephemeral() as second:
        outcomes = _sync_with_groq_last(provider_env, second, sqlite_url, monkeypatch)
        assert [o.counts["unchanged"] > 0 and not sync.changed_rows(o) for o in outcomes] == [True, True]
        assert _refreshes(second) == [("while-last-fetch", ALL_THREE), ("after-sync", ["catalog_export"])]
    # The export shows Groq's sync of this run, not the one before.
    after = _sync_times(sqlite_url)
    shown = {entry["slug"]: entry["last_synced_at"] for entry in json.loads((tmp_path / "exports" / "catalog.json").read_text())["providers"]}
    assert shown == after and after["groq"] != before["groq"]


def test_a_refresh_whose_links_failed_leaves_the_last_one_everything(provider_env, sqlite_url, monkeypatch):
    with dg.DagsterInstance.ephemeral() as first:
        _sync_with_groq_last(provider_env, first, sqlite_url, monkeypatch)
    from catalog_pipeline.defs import cross_provider

    rebuild = cross_provider.rebuild_links
    calls = []

    def fails_first(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("links failed")
        return rebuild(*args, **kwargs)

    monkeypatch.setattr(cross_provider, "rebuild_links", fails_first)
    with dg.DagsterInstance.ephemeral() as second:
        _sync_with_groq_last(provider_env, second, sqlite_url, monkeypatch)  # nothing changed, but the links of the first refresh failed
        assert _refreshes(second) == [("while-last-fetch", []), ("after-sync", ALL_THREE)]


def test_a_long_fetch_in_another_process_is_awaited_with_a_refresh(provider_env, sqlite_url):
    # The other process reports nothing new here; a long fetch there makes this one refresh while it
    # waits, a handful of changed rows alone does not.
    _serve(provider_env, "deepinfra")
    triggers = {}
    for others_outlast in (True, False):
        with dg.DagsterInstance.ephemeral() as instance:
            sync_providers(
                ["deepinfra"], instance=instance, definitions=load_definitions(), catalog_db=CatalogDatabase(url=sqlite_url),
                other_outcomes=list, others_outlast=others_outlast,
            )
            triggers[others_outlast] = [trigger for trigger, _ in _refreshes(instance)]
    assert triggers == {True: ["while-workers"], False: ["after-sync"]}
