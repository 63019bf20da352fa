"""Each asset materialized on its own, as from the UI's Partitions tab, in whichever process; and
providers that cannot run (no key, nothing archived) read as skipped, never as failed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
from sqlalchemy import delete, select

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.schema import providers, raw_model_lists

from .catalog_snapshot import models_by_id
from .cli_helpers import sync_models_in_process
from .conftest import FIXTURES
from .http_server import FixtureServer, json_reply
from .sync_helpers import CATALOG_DEFS, FAST_APIS

REPO = Path(__file__).resolve().parents[1]


def serve(server: FixtureServer, *slugs: str) -> None:
    for slug in slugs:
        server.route(f"/{slug}/models", json_reply(json.loads((FIXTURES / f"{slug}_models.json").read_text())))


def run(*command: str, database_url: str, dagster_home: Path) -> subprocess.CompletedProcess:
    dagster_home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CATALOG_DATABASE_URL": database_url, "DAGSTER_HOME": str(dagster_home)}
    return subprocess.run(list(command), env=env, capture_output=True, text=True, timeout=300, cwd=REPO)


def sync_models_in_home(*args: str, database_url: str, dagster_home: Path) -> subprocess.CompletedProcess:
    """`sync-models ARGS` (its main, in this process) with its own DAGSTER_HOME; `dg launch` below
    is the real other process."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    return sync_models_in_process(*args, database_url=database_url, extra_env={"DAGSTER_HOME": str(dagster_home)})


def test_model_catalog_alone_in_another_instance_uses_the_archived_list(provider_env, sqlite_url, tmp_path):
    serve(provider_env, "openrouter")
    synced = sync_models_in_home("--providers", "openrouter", database_url=sqlite_url, dagster_home=tmp_path / "cli_home")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    synced_at = last_synced_at(sqlite_url, "openrouter")
    dg_cli = shutil.which("dg", path=str(Path(sys.executable).parent))
    alone = run(dg_cli, "launch", "--assets", "model_catalog", "--partition", "openrouter",
                database_url=sqlite_url, dagster_home=tmp_path / "other_fresh_home")
    assert alone.returncode == 0, alone.stderr[-4000:]
    assert "STEP_SUCCESS" in alone.stderr and "FileNotFoundError" not in alone.stderr
    assert len(models_by_id(sqlite_url, "openrouter")) == 5
    assert last_synced_at(sqlite_url, "openrouter") > synced_at  # the load really ran again


def last_synced_at(database_url: str, slug: str):
    with catalog_engine(database_url).connect() as conn:
        return conn.execute(select(providers.c.last_synced_at).where(providers.c.slug == slug)).scalar_one()


def materialize_alone(selection: list[str], slug: str, catalog_url: str, instance: dg.DagsterInstance | None = None):
    from catalog_pipeline.defs.handoff import IO_MANAGER_KEY, catalog_handoff
    from catalog_pipeline.defs.resources import CatalogDatabase

    return dg.materialize(
        CATALOG_DEFS, selection=selection, partition_key=slug, raise_on_error=False,
        resources={"catalog_db": CatalogDatabase(url=catalog_url), "provider_apis": FAST_APIS, IO_MANAGER_KEY: catalog_handoff},
        instance=instance or dg.DagsterInstance.ephemeral(),
    )


def test_normalized_models_alone_reads_the_archive_and_never_calls_the_provider(provider_env, catalog_url):
    serve(provider_env, "deepinfra")
    assert materialize_alone(["raw_models"], "deepinfra", catalog_url).success
    hits = provider_env.hits("/deepinfra/models")
    result = materialize_alone(["normalized_models"], "deepinfra", catalog_url)
    assert result.success
    (event,) = result.asset_materializations_for_node("normalized_models")
    assert event.metadata["transformed"].value == 5
    assert provider_env.hits("/deepinfra/models") == hits


def test_without_upstream_data_the_message_names_the_asset_to_materialize(provider_env, catalog_url):
    from .sync_helpers import failure_message

    for selection in (["model_catalog"], ["normalized_models"]):
        result = materialize_alone(selection, "openrouter", catalog_url)
        assert not result.success
        assert failure_message(result) == (
            "openrouter: no archived model list yet; materialize raw_models for partition openrouter first"
            " (or run: sync-models --providers openrouter)"
        )


def test_a_provider_without_its_key_reads_as_not_materialized_never_failed(provider_env, sqlite_url, monkeypatch):
    monkeypatch.delenv("GROQ_API_KEY")
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize_alone(["raw_models", "normalized_models", "model_catalog"], "groq", sqlite_url, instance)
        assert result.success
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
        from catalog_pipeline.defs.partitions import provider_partitions

        for asset in ("raw_models", "normalized_models", "model_catalog"):
            status = instance.get_status_by_partition(dg.AssetKey(asset), ["groq"], provider_partitions)
            assert status["groq"] is None, (asset, status)
        evaluations = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
        assert evaluations == []  # checks did not run, so none can read "failed"
        (observation,) = instance.fetch_observations(dg.AssetKey("raw_models"), limit=5).records
        assert observation.asset_observation.metadata["skipped_reason"].value == "skipped: GROQ_API_KEY is not set"
    assert provider_env.hits("/groq/models") == 0


def test_from_archive_for_a_never_archived_provider_is_skipped(provider_env, sqlite_url, tmp_path):
    serve(provider_env, "openrouter", "deepinfra")
    home = tmp_path / "home"
    assert sync_models_in_home("--providers", "openrouter", "deepinfra", database_url=sqlite_url, dagster_home=home).returncode == 0
    engine = catalog_engine(sqlite_url)
    with engine.begin() as conn:  # deepinfra has rows but no archived list (e.g. the archive was pruned)
        conn.execute(delete(raw_model_lists).where(raw_model_lists.c.provider_slug == "deepinfra"))
    with engine.connect() as conn:
        before = conn.execute(select(providers.c.slug, providers.c.last_synced_at).order_by(providers.c.slug)).all()
    done = sync_models_in_home("--from-archive", "--providers", "deepinfra", "openrouter", "groq", database_url=sqlite_url, dagster_home=home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "deepinfra   SKIPPED skipped: no archived model list yet" in done.stdout
    assert "groq        SKIPPED skipped: no archived model list yet" in done.stdout
    assert "1 synced, 0 failed, 2 skipped" in done.stdout
    with engine.connect() as conn:
        after = dict(conn.execute(select(providers.c.slug, providers.c.last_synced_at)).all())
    assert after["deepinfra"] == dict(before)["deepinfra"]
    assert "groq" not in after
