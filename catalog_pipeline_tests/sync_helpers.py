"""Run the real Dagster assets for one provider, as the CLI and UI do, with fast HTTP retries."""

from __future__ import annotations

import dagster as dg

from catalog_pipeline.defs.assets import model_catalog, normalized_models, raw_models
from catalog_pipeline.defs.resources import CatalogDatabase, ProviderApis

FAST_APIS = ProviderApis(
    connect_timeout_seconds=2, read_timeout_seconds=2, max_attempts=3,
    backoff_initial_seconds=0.01, backoff_max_seconds=0.05, retry_budget_seconds=10,
)


def materialize_provider(
    slug: str, database_url: str, *, dry_run: bool = False, force: bool = False,
    apis: ProviderApis = FAST_APIS, instance: dg.DagsterInstance | None = None,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [raw_models, normalized_models, model_catalog],
        partition_key=slug,
        resources={"catalog_db": CatalogDatabase(url=database_url), "provider_apis": apis},
        run_config=dg.RunConfig(ops={"model_catalog": {"config": {"dry_run": dry_run, "force": force}}}),
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def catalog_metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = result.asset_materializations_for_node("model_catalog")
    return {key: value.value for key, value in event.metadata.items()}


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    failures = [event for event in result.all_events if event.is_step_failure]
    assert failures, "expected a failed step"
    data = failures[0].step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    return data.error.message if data.error else ""
