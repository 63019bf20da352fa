"""A fresh clone used as the README says: `dg dev` and `dg launch` typed in the repository root
with a clean environment, and deploy/dagster.yaml on a real PostgreSQL.

The clone is `git clone` of this checkout, so it holds what is committed (what a user gets)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from .fixture_routes import fixture
from .http_server import FixtureServer, json_reply
from .in_process import run_main
from .server_process import free_port, wait_for_exit

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 180.0
ASSETS = {"raw_models", "normalized_models", "model_catalog", "canonical_models", "price_discrepancies", "catalog_export"}


def readme_command(pattern: str) -> str:
    """The one line of a README shell block that matches `pattern`, as a user would copy it."""
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines() if re.search(pattern, line)]
    assert len(lines) == 1, f"README should give exactly one command matching {pattern!r}, found {lines}"
    return lines[0]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (REPO / ".git").exists():
        pytest.skip(f"{REPO} is not a git checkout, so it cannot be cloned")
    target = tmp_path_factory.mktemp("fresh") / "model-catalog-sync"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True, timeout=120)
    # The README's own install step, without the 1.5 minutes: the venv this test runs in.
    (target / ".venv").symlink_to(Path(sys.prefix))
    return target


@pytest.fixture
def openrouter() -> FixtureServer:
    with FixtureServer() as server:
        server.route("/openrouter/models", json_reply(fixture("openrouter_models.json")))
        yield server


def clean_env(home: Path, openrouter: FixtureServer, **extra: str) -> dict[str, str]:
    """What a fresh shell has: no DAGSTER_HOME, no catalog URL, no keys; only the fixture's URL."""
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "OPENROUTER_BASE_URL": f"{openrouter.url}/openrouter", **extra}


def test_dg_launch_from_the_repository_root_materializes_a_partition(clone: Path, openrouter: FixtureServer, tmp_path: Path):
    command = readme_command(r"\bdg launch\b")
    done = subprocess.run(
        ["bash", "-c", command], cwd=clone, env=clean_env(tmp_path / "home", openrouter),
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "Traceback" not in output and "DAGSTER_PG" not in output
    assert 'RUN_SUCCESS - Finished execution of run for "__ASSET_JOB"' in output
    catalog = tmp_path / "home" / ".model-catalog-sync" / "catalog.db"
    with sqlite3.connect(catalog) as conn:
        (count,) = conn.execute("SELECT count(*) FROM models").fetchone()
    assert count == len(fixture("openrouter_models.json")["data"])
    assert not list(clone.glob(".tmp_dagster_home_*")), "the temporary instance must be removed on exit"


def test_dg_dev_from_the_repository_root_serves_every_asset(clone: Path, openrouter: FixtureServer, tmp_path: Path):
    command = readme_command(r"\bdg dev\b")
    port = free_port()
    home = tmp_path / "home"
    # dg reads `--port` from DAGSTER_DG_DEV_PORT: the README's line stays as written, on a free port.
    env = clean_env(home, openrouter, DAGSTER_DG_DEV_PORT=str(port))
    log_path = tmp_path / "dg-dev.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["bash", "-c", command], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            graphql = f"http://127.0.0.1:{port}/graphql"
            wait_until_answering(process, graphql, log_path)
            answer = httpx.post(graphql, json={"query": "{ assetNodes { assetKey { path } } }"}, timeout=30).json()
            assert {node["assetKey"]["path"][-1] for node in answer["data"]["assetNodes"]} == ASSETS
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
            try:
                exit_code = process.wait(timeout=60)
            except subprocess.TimeoutExpired:  # fails below, without leaving dg dev and its children running
                os.killpg(process.pid, signal.SIGKILL)
                exit_code = process.wait()
    leftovers = wait_for_exit(f"HOME={home}")
    assert exit_code == 0, log_path.read_text(errors="replace")[-4000:]
    assert leftovers == [], f"dg dev left processes running: {leftovers}"
    assert "Traceback" not in log_path.read_text(errors="replace")


def wait_until_answering(process: subprocess.Popen, graphql: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    with httpx.Client() as http:  # one TLS context for all the polls, not one each (~20 ms of CPU)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"dg dev exited with {process.returncode}:\n{log_path.read_text(errors='replace')[-4000:]}")
            try:
                if http.post(graphql, json={"query": "{ version }"}, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
    pytest.fail(f"dg dev did not answer within {START_TIMEOUT_SECONDS} s:\n{log_path.read_text(errors='replace')[-4000:]}")


def test_deploy_instance_file_runs_a_sync_on_postgresql(postgres_admin_url: str, openrouter: FixtureServer, tmp_path: Path):
    """deploy/dagster.yaml, used as the README's "Deploying" says, keeps run history in PostgreSQL."""
    import dagster as dg
    import psycopg

    from catalog_pipeline.cli.sync_models import main as sync_models_main
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage
    from sqlalchemy.engine import make_url

    admin = make_url(postgres_admin_url)
    db_name = f"dagster_deploy_{uuid.uuid4().hex[:12]}"
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    pg_env = {
        "DAGSTER_PG_USERNAME": admin.username or "postgres", "DAGSTER_PG_PASSWORD": admin.password or "",
        "DAGSTER_PG_HOST": admin.host or "127.0.0.1", "DAGSTER_PG_DB": db_name, "DAGSTER_PG_PORT": str(admin.port or 5432),
    }
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    try:
        env = {
            **clean_env(tmp_path / "home", openrouter), **pg_env, "DAGSTER_HOME": str(home),
            "CATALOG_DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
        }
        # In this process: what is tested is the instance file, not the console script's start.
        done = run_main(sync_models_main, ["--providers", "openrouter"], env, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        with pytest.MonkeyPatch.context() as patch:
            for name, value in pg_env.items():
                patch.setenv(name, value)
            patch.setenv("DAGSTER_HOME", str(home))
            with dg.DagsterInstance.get() as instance:
                assert isinstance(instance.run_storage, PostgresRunStorage)
                assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
                assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
                assert instance.run_monitoring_enabled
                runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": "openrouter"}))
                assert [run.status for run in runs] == [dg.DagsterRunStatus.SUCCESS]
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
