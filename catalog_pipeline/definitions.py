"""The `catalog_pipeline` code location: everything Dagster loads, gathered in one place."""

import os

import dagster as dg

from catalog_pipeline.db.engine import DATABASE_URL_ENV_VAR
from catalog_pipeline.defs.assets import model_catalog, normalized_models, raw_models
from catalog_pipeline.defs.handoff import IO_MANAGER_KEY, catalog_handoff
from catalog_pipeline.defs.cross_provider import EXPORT_DIR_ENV_VAR, cross_provider_definitions
from catalog_pipeline.defs.checks import model_ids_and_limits_are_valid, prices_are_plausible
from catalog_pipeline.defs.jobs import catalog_replay_job, catalog_sync_job
from catalog_pipeline.defs.resources import CatalogDatabase, ProviderApis
from catalog_pipeline.defs.schedules import daily_catalog_sync
from catalog_pipeline.defs.sensors import catalog_change_notifier

defs = dg.Definitions(
    assets=[raw_models, normalized_models, model_catalog],
    asset_checks=[prices_are_plausible, model_ids_and_limits_are_valid],
    jobs=[catalog_sync_job, catalog_replay_job],
    schedules=[daily_catalog_sync],
    sensors=[catalog_change_notifier],
    resources={
        # Unset CATALOG_DATABASE_URL means the embedded SQLite default, so bind the variable only when set.
        "catalog_db": CatalogDatabase(url=dg.EnvVar(DATABASE_URL_ENV_VAR) if os.environ.get(DATABASE_URL_ENV_VAR) else None),
        "provider_apis": ProviderApis(),
        IO_MANAGER_KEY: catalog_handoff,
    },
    # One process per step costs ~9 s for a run on 2 cores; in-process runs take under a second.
    executor=dg.in_process_executor,
)
defs = dg.Definitions.merge(defs, cross_provider_definitions(os.environ.get(EXPORT_DIR_ENV_VAR)))
