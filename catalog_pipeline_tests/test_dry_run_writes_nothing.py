"""A dry run writes nothing, whichever way it is started: every table of the catalog is the same
before and after, on an empty catalog and on a populated one."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import dagster as dg
import pytest

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.providers import ADAPTERS

from .fixture_routes import fixture
from .http_server import FixtureServer, json_reply
from .server_process import ServerProcess
from catalog_pipeline.defs.handoff import IO_MANAGER_KEY, catalog_handoff
from catalog_pipeline.defs.resources import CatalogDatabase

from .cli_helpers import sync_models_in_process as sync_models
from .sync_helpers import CATALOG_DEFS, FAST_APIS, catalog_metadata
from .table_dump import dump_all_tables

ADMIN_KEY = "dry-run-admin-key-0123456789-abcd"


def changed_openrouter() -> dict:
    payload = copy.deepcopy(fixture("openrouter_models.json"))
    payload["data"][0]["pricing"]["completion"] = "0.00002"
    payload["data"].pop()
    return payload


def test_cli_dry_run_on_an_empty_then_a_populated_catalog(provider_env: FixtureServer, sqlite_url: str):
    catalog_url = sqlite_url  # the run-config test below covers PostgreSQL in process, at a fraction of the time
    provider_env.route("/openrouter/models", json_reply(fixture("openrouter_models.json")))
    catalog_engine(catalog_url)  # the schema exists, no row does
    empty = dump_all_tables(catalog_url)
    # Only the schema's own version row: no data yet.
    assert all(rows == [] for name, rows in empty.items() if not name.endswith("alembic_version")) and "raw_model_lists" in empty
    dry = sync_models("--providers", "openrouter", "--dry-run", database_url=catalog_url)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "Dry run: would sync 5 models from openrouter" in dry.stdout
    assert dump_all_tables(catalog_url) == empty

    assert sync_models("--providers", "openrouter", database_url=catalog_url).returncode == 0
    provider_env.route("/openrouter/models", json_reply(changed_openrouter()))
    populated = dump_all_tables(catalog_url)
    dry = sync_models("--providers", "openrouter", "--dry-run", "--verbose", database_url=catalog_url)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "updated 1, reactivated 0, deactivated 1" in dry.stdout
    assert dump_all_tables(catalog_url) == populated


LAUNCHPAD_DRY_RUN = {"ops": {"model_catalog": {"config": {"dry_run": True}}}}  # the UI's launchpad YAML, as a dict


def launch_like_the_ui(catalog_url: str, run_config: dict | None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        CATALOG_DEFS, partition_key="openrouter", run_config=run_config, raise_on_error=False,
        resources={"catalog_db": CatalogDatabase(url=catalog_url), "provider_apis": FAST_APIS, IO_MANAGER_KEY: catalog_handoff},
        instance=dg.DagsterInstance.ephemeral(),
    )


def test_ui_run_config_dry_run_on_an_empty_then_a_populated_catalog(provider_env: FixtureServer, catalog_url: str):
    provider_env.route("/openrouter/models", json_reply(fixture("openrouter_models.json")))
    catalog_engine(catalog_url)
    empty = dump_all_tables(catalog_url)
    dry = launch_like_the_ui(catalog_url, LAUNCHPAD_DRY_RUN)
    assert dry.success
    assert catalog_metadata(dry)["added"] == 5
    (raw,) = dry.asset_materializations_for_node("raw_models")
    assert raw.metadata["archived"].value is False
    assert dump_all_tables(catalog_url) == empty

    assert launch_like_the_ui(catalog_url, None).success
    provider_env.route("/openrouter/models", json_reply(changed_openrouter()))
    populated = dump_all_tables(catalog_url)
    dry = launch_like_the_ui(catalog_url, LAUNCHPAD_DRY_RUN)
    assert dry.success
    meta = catalog_metadata(dry)
    assert (meta["updated"], meta["deactivated"]) == (1, 1)
    assert dump_all_tables(catalog_url) == populated


@pytest.fixture
def catalog_server(tmp_path: Path):
    """catalog-server on an empty SQLite catalog, OpenRouter pointed at a loopback fixture."""
    with FixtureServer() as providers:
        providers.route("/openrouter/models", json_reply(fixture("openrouter_models.json")))
        env = {
            name: value for name, value in os.environ.items()
            if not name.endswith(("_API_KEY", "_BASE_URL")) and name not in ("DAGSTER_HOME", "CATALOG_DATABASE_URL")
        }
        env.update({module.SPEC.base_url_env_var: f"{providers.url}/{slug}" for slug, module in ADAPTERS.items()})
        database_url = f"sqlite:///{tmp_path / 'catalog.db'}"
        env.update(ADMIN_API_KEY=ADMIN_KEY, DAGSTER_HOME=str(tmp_path / "dagster_home"), CATALOG_DATABASE_URL=database_url)
        server = ServerProcess(env, tmp_path / "server.log").start(ADMIN_KEY)
        server.database_url, server.providers = database_url, providers
        try:
            yield server
        finally:
            server.stop()


def test_api_dry_run_on_an_empty_then_a_populated_catalog(catalog_server: ServerProcess):
    import httpx

    def sync(dry_run: bool) -> dict:
        response = httpx.post(
            f"{catalog_server.url}/admin/model-sync/provider/openrouter?dry_run={str(dry_run).lower()}",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=180,
        )
        assert response.status_code == 200, response.text
        return response.json()

    catalog_engine(catalog_server.database_url)
    empty = dump_all_tables(catalog_server.database_url)
    assert sync(dry_run=True)["details"]["diff"]["added"]
    assert dump_all_tables(catalog_server.database_url) == empty

    assert sync(dry_run=False)["details"]["models_synced"] == 5
    catalog_server.providers.route("/openrouter/models", json_reply(changed_openrouter()))
    populated = dump_all_tables(catalog_server.database_url)
    details = sync(dry_run=True)["details"]
    assert len(details["diff"]["deactivated"]) == 1
    assert dump_all_tables(catalog_server.database_url) == populated
