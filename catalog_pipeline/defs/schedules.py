"""The daily full sync: one run per provider, so each provider's status stays its own."""


import os

import dagster as dg

from catalog_pipeline.providers import ADAPTERS

from .jobs import catalog_sync_job

SYNC_CRON_ENV_VAR = "CATALOG_SYNC_CRON"
DEFAULT_SYNC_CRON = "0 3 * * *"


@dg.schedule(
    name="daily_catalog_sync",
    cron_schedule=os.environ.get(SYNC_CRON_ENV_VAR) or DEFAULT_SYNC_CRON,
    job=catalog_sync_job,
    execution_timezone="UTC",
    # On as soon as a daemon runs (catalog-server, dagster dev): syncing is the point of the schedule.
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=f"Sync every provider whose key is available; cron from {SYNC_CRON_ENV_VAR}.",
)
def daily_catalog_sync(context: dg.ScheduleEvaluationContext):
    tick = context.scheduled_execution_time.strftime("%Y-%m-%dT%H:%M")
    for slug, module in ADAPTERS.items():
        if reason := module.SPEC.missing_key_reason():
            context.log.info(f"{slug}: skipped: {reason}")
            continue
        yield dg.RunRequest(run_key=f"{slug}@{tick}", partition_key=slug, tags={"catalog/trigger": "schedule"})
