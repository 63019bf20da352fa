"""The code location as Dagster loads it: jobs, checks, executor, and the daily schedule."""

import os
import subprocess
import sys

from datetime import datetime, timezone

import dagster as dg

from catalog_pipeline.definitions import defs as load_definitions
from catalog_pipeline.providers import ADAPTERS


def test_definitions_load_with_in_process_jobs_and_blocking_checks():
    defs = load_definitions()
    job = defs.resolve_job_def("catalog_sync")
    assert job.executor_def is dg.in_process_executor
    assert {key.name for key in defs.resolve_asset_graph().asset_check_keys} == {
        "prices_are_plausible", "model_ids_and_limits_are_valid", "shrink_guard", "price_changes_held",
        "active_models_linked", "no_unit_error_ratios",
    }
    assert defs.resolve_job_def("catalog_replay") is not None


def test_daily_schedule_requests_one_run_per_provider_with_a_key(monkeypatch):
    for module in ADAPTERS.values():
        monkeypatch.delenv(module.SPEC.api_key_env_var, raising=False)
    monkeypatch.setenv("GROQ_API_KEY", "k")
    defs = load_definitions()
    schedule = defs.resolve_schedule_def("daily_catalog_sync")
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2026, 11, 29, 3, tzinfo=timezone.utc),
            repository_def=defs.get_repository_def(),
            resources=defs.resources,
        )
        requests = list(schedule.evaluate_tick(context).run_requests or [])
    keyless_or_optional = [s for s, m in ADAPTERS.items() if not m.SPEC.key_required] + ["groq"]
    assert sorted(r.partition_key for r in requests) == sorted(keyless_or_optional)
    assert len({r.run_key for r in requests}) == len(requests)
    assert "deepinfra" not in {r.partition_key for r in requests}  # required key missing: not requested
    # One run per provider per tick: the daemon drops a second request with the same run key.
    assert {r.run_key for r in requests} == {f"{slug}@2026-11-29T03:00" for slug in keyless_or_optional}


def test_schedule_cron_comes_from_the_environment():
    code = "from catalog_pipeline.definitions import defs; print(defs().resolve_schedule_def('daily_catalog_sync').cron_schedule)"
    env = {**os.environ, "CATALOG_SYNC_CRON": "15 */6 * * *"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "15 */6 * * *", done.stderr
