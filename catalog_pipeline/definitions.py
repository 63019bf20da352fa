"""The `catalog_pipeline` code location: everything Dagster loads, gathered in one place."""

import dagster as dg

from catalog_pipeline.defs.assets import model_catalog, normalized_models, raw_models
from catalog_pipeline.defs.handoff import IO_MANAGER_KEY, catalog_handoff
from catalog_pipeline.defs.cross_provider import cross_provider_definitions
from catalog_pipeline.defs.jobs import catalog_replay_job, catalog_sync_job
from catalog_pipeline.defs.resources import CatalogDatabase, ProviderApis
from catalog_pipeline.defs.schedules import daily_catalog_sync_schedule
from catalog_pipeline.defs.sensors import build_change_notifier
from catalog_pipeline.settings import load_settings


@dg.definitions
def defs() -> dg.Definitions:
    """Built when Dagster loads the code location (not at import): the cron and whether the
    notifier starts on are the ones set then."""
    settings = load_settings()
    sync = dg.Definitions(
        assets=[raw_models, normalized_models, model_catalog],
        jobs=[catalog_sync_job, catalog_replay_job],
        schedules=[daily_catalog_sync_schedule(settings.sync_cron)],
        sensors=[build_change_notifier(settings=settings)],
        resources={
            # Both resolve their settings (database URL, keys, base URLs) when a run starts.
            "catalog_db": CatalogDatabase(),
            "provider_apis": ProviderApis(),
            IO_MANAGER_KEY: catalog_handoff,
        },
        # One process per step costs ~9 s for a run on 2 cores; in-process runs take under a second.
        executor=dg.in_process_executor,
    )
    return dg.Definitions.merge(sync, cross_provider_definitions())
