"""The daily full sync: one run per provider, so each provider's status stays its own."""

import dagster as dg

from catalog_pipeline.providers import ADAPTERS
from catalog_pipeline.settings import SYNC_CRON_ENV_VAR

from .jobs import catalog_sync_job
from .resources import ProviderApis


def daily_catalog_sync_schedule(cron: str) -> dg.ScheduleDefinition:
    """The schedule on `cron` (the code location passes `CATALOG_SYNC_CRON` when it loads)."""

    @dg.schedule(
        name="daily_catalog_sync",
        cron_schedule=cron,
        job=catalog_sync_job,
        execution_timezone="UTC",
        # On as soon as a daemon runs (catalog-server, dagster dev): syncing is the point of the schedule.
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Sync every provider whose key is available; cron from {SYNC_CRON_ENV_VAR}.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext, provider_apis: ProviderApis):
        tick = context.scheduled_execution_time.strftime("%Y-%m-%dT%H:%M")
        for slug, module in ADAPTERS.items():
            if reason := provider_apis.missing_key_reason(module.SPEC):
                context.log.info(f"{slug}: skipped: {reason}")
                continue
            yield dg.RunRequest(run_key=f"{slug}@{tick}", partition_key=slug, tags={"catalog/trigger": "schedule"})

    return _schedule
