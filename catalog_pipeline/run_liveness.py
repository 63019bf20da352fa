"""Runs whose process is gone must not hold their provider: a STARTED run stays STARTED forever
when `sync-models` is killed, and the admin API's one-run-per-provider rule would then refuse that
provider for good.

`sync-models` tags each run with the host and process that execute it. A STARTED run is failed
through the instance, with the reason, when that process is gone (same host only: another host's
processes cannot be seen from here) or when it has run past the run deadline.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import dagster as dg

from catalog_pipeline.instance import DEFAULT_RUN_DEADLINE_SECONDS

HOST_TAG = "catalog/host"
PID_TAG = "catalog/pid"
PROCESS_START_TAG = "catalog/process_start"  # the PID's start time, so a reused PID is not mistaken for the run's
MAX_RUNTIME_TAG = "dagster/max_runtime"  # Dagster's own per-run override of run_monitoring.max_runtime_seconds
PARTITION_TAG = "dagster/partition"


def owner_tags() -> dict[str, str]:
    """Tags naming this process as the one executing the run."""
    tags = {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}
    if (started := _process_start(os.getpid())) is not None:
        tags[PROCESS_START_TAG] = started
    return tags


def run_deadline_seconds(instance: dg.DagsterInstance, tags: dict[str, str] | None = None) -> float:
    """The run's own `dagster/max_runtime`, else the instance's run monitoring limit, else one hour."""
    for value in ((tags or {}).get(MAX_RUNTIME_TAG), instance.run_monitoring_max_runtime_seconds):
        try:
            seconds = float(value or 0)
        except (TypeError, ValueError):
            continue
        if seconds > 0:
            return seconds
    return float(DEFAULT_RUN_DEADLINE_SECONDS)


def why_dead(record: dg.RunRecord, deadline_seconds: float, now: float) -> str | None:
    """Why this STARTED run can no longer finish, or None while it may still be running."""
    tags = record.dagster_run.tags
    host, pid = tags.get(HOST_TAG), tags.get(PID_TAG)
    if host == socket.gethostname() and pid and pid.isdigit() and not _alive(int(pid), tags.get(PROCESS_START_TAG)):
        return f"the process that ran it (pid {pid} on {host}) is gone; it was killed or crashed"
    if record.start_time is not None and now - record.start_time > deadline_seconds:
        return f"it has run for more than the run deadline of {int(deadline_seconds)} s without finishing"
    return None


def fail_dead_runs(instance: dg.DagsterInstance, provider: str | None = None, *, now: float | None = None) -> list[str]:
    """Mark every STARTED run (of `provider`, or of any provider) that cannot finish as failed.
    Returns their run ids."""
    now = time.time() if now is None else now
    tags = {PARTITION_TAG: provider} if provider else {}
    records = instance.get_run_records(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED], tags=tags))
    failed = []
    for record in records:
        reason = why_dead(record, run_deadline_seconds(instance, dict(record.dagster_run.tags)), now)
        if reason is None:
            continue
        current = instance.get_run_by_id(record.dagster_run.run_id)
        if current is None or current.status != dg.DagsterRunStatus.STARTED:  # finished meanwhile
            continue
        instance.report_run_failed(current, f"Marked failed by model-catalog-sync: {reason}.")
        failed.append(current.run_id)
    return failed


def _alive(pid: int, expected_start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    state, started = _proc_stat(pid)
    if state in ("Z", "X"):  # killed, not yet reaped by its parent
        return False
    return expected_start is None or started is None or started == expected_start


def _process_start(pid: int) -> str | None:
    return _proc_stat(pid)[1]


def _proc_stat(pid: int) -> tuple[str | None, str | None]:
    """The process's state letter and start time (clock ticks since boot) on Linux; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None, None
    return fields[0], (fields[19] if len(fields) > 19 else None)
