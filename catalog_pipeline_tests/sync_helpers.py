"""Run the real Dagster assets for one provider, as the CLI and UI do, with fast HTTP retries."""

from __future__ import annotations

import dagster as dg

from catalog_pipeline.defs.assets import model_catalog, normalized_models, raw_models
from catalog_pipeline.defs.handoff import IO_MANAGER_KEY, catalog_handoff
from catalog_pipeline.defs.resources import CatalogDatabase, ProviderApis
from catalog_pipeline.defs.outcome import run_outcome

CATALOG_DEFS = [raw_models, normalized_models, model_catalog]

FAST_APIS = ProviderApis(
    connect_timeout_seconds=2, read_timeout_seconds=2, max_attempts=3,
    backoff_initial_seconds=0.01, backoff_max_seconds=0.05, deadline_seconds=10,
)


def materialize_provider(
    slug: str, database_url: str, *, dry_run: bool = False, force: bool = False,
    apis: ProviderApis = FAST_APIS, instance: dg.DagsterInstance | None = None,
    catalog_db: CatalogDatabase | None = None,
) -> dg.ExecuteInProcessResult:
    """`catalog_db` replaces the default resource for `database_url` (e.g. with short timeouts)."""
    return dg.materialize(
        CATALOG_DEFS,
        partition_key=slug,
        resources={"catalog_db": catalog_db or CatalogDatabase(url=database_url), "provider_apis": apis, IO_MANAGER_KEY: catalog_handoff},
        run_config=dg.RunConfig(ops={"model_catalog": {"config": {"dry_run": dry_run, "force": force}}}),
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def catalog_metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = result.asset_materializations_for_node("model_catalog")
    return {key: value.value for key, value in event.metadata.items()}


def failure_message(result: dg.ExecuteInProcessResult) -> str | None:
    """Why the run failed, as the CLI and the API say it (None when it did not)."""
    return run_outcome(result.all_events).error


def skipped_reason(result: dg.ExecuteInProcessResult) -> str | None:
    """Why a run that succeeded synced nothing, as raw_models recorded it (None if it did not)."""
    return run_outcome(result.all_events).skipped
