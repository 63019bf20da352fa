"""`sync-models` as a user runs it: real HTTP on loopback, a persistent instance. The syncs run the
command's `main` in this process (the same arguments, environment and output); the tests of
argument errors, `--list-providers` and `dagster asset materialize` start real subprocesses, and
so do test_all_providers.py and test_guardrails.py's secrets test for whole syncs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.migrate import VERSION_TABLE
from catalog_pipeline.providers import PROVIDER_SLUGS

from .catalog_snapshot import catalog_state, models_by_id
from .cli_helpers import REPO, sync_models, sync_models_in_process
from .conftest import FIXTURES
from .http_server import Reply, json_reply

SPINE = ["openrouter", "deepinfra", "groq"]


def serve_spine(server) -> None:
    for slug in SPINE:
        server.route(f"/{slug}/models", json_reply(json.loads((FIXTURES / f"{slug}_models.json").read_text())))


def test_sync_of_three_providers_one_failing(provider_env, catalog_url):
    serve_spine(provider_env)
    provider_env.route("/groq/models", Reply(status=500, body="groq is down"))
    done = sync_models_in_process("--providers", *SPINE, database_url=catalog_url)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.split() and line.split()[0] in SPINE}
    assert "OK" in lines["openrouter"] and "Synced 5 models from openrouter. Fetched: 5, Transformed: 5, Skipped: 0" in lines["openrouter"]
    assert "OK" in lines["deepinfra"] and "added 5" in lines["deepinfra"]
    assert "FAILED" in lines["groq"] and "HTTP 500" in lines["groq"]
    assert "2 synced, 1 failed, 0 skipped" in done.stdout
    assert len(models_by_id(catalog_url, "openrouter")) == 5
    assert models_by_id(catalog_url, "groq") == {}

    # Each provider had its own run in the persistent instance, and partition status is truthful.
    import dagster as dg

    from catalog_pipeline.defs.partitions import provider_partitions

    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"catalog/trigger": "cli"}))
        assert len(runs) == 3
        status = instance.get_status_by_partition(dg.AssetKey("model_catalog"), SPINE, provider_partitions)
        raw_status = instance.get_status_by_partition(dg.AssetKey("raw_models"), SPINE, provider_partitions)
    assert status["openrouter"] == dg.AssetPartitionStatus.MATERIALIZED
    assert status["deepinfra"] == dg.AssetPartitionStatus.MATERIALIZED
    assert raw_status["groq"] == dg.AssetPartitionStatus.FAILED

    # Groq recovers: its own partition turns green, the others are untouched.
    serve_spine(provider_env)
    before = models_by_id(catalog_url, "openrouter")
    again = sync_models_in_process("--providers", *SPINE, database_url=catalog_url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "added 0, updated 0, reactivated 0, deactivated 0, unchanged 5" in again.stdout
    assert models_by_id(catalog_url, "openrouter") == before


def test_dry_run_reports_and_writes_nothing(provider_env, sqlite_url):
    serve_spine(provider_env)
    assert sync_models_in_process("--providers", "openrouter", database_url=sqlite_url).returncode == 0
    before = catalog_state(sqlite_url)
    payload = json.loads((FIXTURES / "openrouter_models.json").read_text())
    payload["data"][0]["pricing"]["completion"] = "0.00002"
    provider_env.route("/openrouter/models", json_reply(payload))
    done = sync_models_in_process("--providers", "openrouter", "--dry-run", "--verbose", database_url=sqlite_url)
    assert done.returncode == 0, done.stderr
    assert "Dry run: would sync 5 models from openrouter" in done.stdout
    assert '"pricing_completion": ["0.000015", "0.00002"]' in done.stdout
    assert catalog_state(sqlite_url) == before


def test_missing_key_is_skipped_not_synced_as_zero(provider_env, sqlite_url, monkeypatch):
    monkeypatch.delenv("GROQ_API_KEY")
    serve_spine(provider_env)
    done = sync_models_in_process("--providers", "openrouter", "groq", database_url=sqlite_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SKIPPED skipped: GROQ_API_KEY is not set" in done.stdout
    assert provider_env.hits("/groq/models") == 0


def test_from_archive_replays_without_calling_the_provider(provider_env, sqlite_url):
    serve_spine(provider_env)
    assert sync_models_in_process("--providers", "openrouter", database_url=sqlite_url).returncode == 0
    hits = provider_env.hits("/openrouter/models")
    provider_env.route("/openrouter/models", Reply(status=500, body="must not be called"))
    done = sync_models_in_process("--providers", "openrouter", "--from-archive", database_url=sqlite_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unchanged 5" in done.stdout
    assert provider_env.hits("/openrouter/models") == hits


def test_unknown_provider_and_bad_database_url_are_named(provider_env, tmp_path):
    # The first two in this process (`main` exits as the script would); the one that must not print
    # a password is a real process: its stdout and stderr are what a user sees.
    done = sync_models_in_process("--providers", "nosuch", database_url=f"sqlite:///{tmp_path}/c.db")
    assert done.returncode == 2 and "unknown provider(s): nosuch" in done.stderr
    done = sync_models_in_process("--providers", "openrouter", database_url="mysql://x@127.0.0.1/db")
    assert done.returncode == 2 and "CATALOG_DATABASE_URL: unsupported database 'mysql'" in done.stderr
    done = sync_models("--providers", "openrouter", database_url="postgresql://nobody:s3cret-pw@127.0.0.1:1/none")
    assert done.returncode == 2 and "cannot open the catalog database postgresql://nobody:***@127.0.0.1:1/none" in done.stderr
    assert "s3cret-pw" not in done.stderr + done.stdout


def test_a_catalog_that_cannot_be_upgraded_stops_the_sync_with_its_cause(provider_env, tmp_path):
    # The catalog is upgraded after the archive is read and the workers have their shares: a
    # catalog from a newer release still stops the command, before any run, naming the cause.
    url = f"sqlite:///{tmp_path}/c.db"
    with catalog_engine(url).begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'f0f0f0f0f0f0'"))
    serve_spine(provider_env)
    done = sync_models("--providers", *SPINE, database_url=url)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"cannot open the catalog database {url}" in done.stderr and "f0f0f0f0f0f0" in done.stderr
    with catalog_engine(url, upgrade=False).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM models")).scalar_one() == 0


def test_list_providers_names_every_registered_provider():
    done = subprocess.run([sys.executable, "-m", "catalog_pipeline.cli.sync_models", "--list-providers"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert f"{len(PROVIDER_SLUGS)} providers" in done.stdout
    for slug in PROVIDER_SLUGS:
        assert f"\n{slug} " in done.stdout


def test_dagster_cli_materializes_one_partition(provider_env, sqlite_url):
    serve_spine(provider_env)
    dagster = shutil.which("dagster", path=str(Path(sys.executable).parent))
    env = {**os.environ, "CATALOG_DATABASE_URL": sqlite_url}
    done = subprocess.run(
        [dagster, "asset", "materialize", "-m", "catalog_pipeline.definitions", "--select", "*", "--partition", "openrouter"],
        env=env, capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(models_by_id(sqlite_url, "openrouter")) == 5
