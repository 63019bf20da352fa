"""A dry run writes nothing, whichever way it is started: every table of the catalog is the same
before and after, on an empty catalog and on a populated one."""

from __future__ import annotations

import copy

import dagster as dg

from catalog_pipeline.db.engine import catalog_engine

from .fixture_routes import fixture
from .http_server import FixtureServer, json_reply
from catalog_pipeline.defs.handoff import IO_MANAGER_KEY, catalog_handoff
from catalog_pipeline.defs.resources import CatalogDatabase

from .cli_helpers import sync_models_in_process as sync_models
from .sync_helpers import CATALOG_DEFS, FAST_APIS, catalog_metadata
from .table_dump import dump_all_tables


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


# The API's dry run, on the empty catalog of a real catalog-server then on a populated one, is in
# test_server_process.py (its first sync), on that module's server rather than one more.
