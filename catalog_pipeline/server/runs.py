"""Launch catalog runs through the Dagster UI's own GraphQL API (in process, no network hop) and
read them back from the instance.

Runs submitted this way take the same path as a click in the UI: they are QUEUED, the daemon's
run coordinator starts them (honouring the instance's run queue limits), and they show up in the
UI's run list with their tags.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import dagster as dg
import httpx
from starlette.types import ASGIApp

from catalog_pipeline.defs.outcome import OUTCOME_EVENT_TYPES, run_outcome
from catalog_pipeline.instance import CODE_LOCATION_NAME
from catalog_pipeline.run_liveness import PARTITION_TAG, fail_dead_runs

JOB_NAME = "catalog_sync"
REPOSITORY_NAME = "__repository__"  # the implicit repository of a `Definitions` object
KEPT_OUTCOMES = 1024  # finished runs' outcomes never change; this many are kept in memory
# Runs are re-read this far back, so a writer whose clock lags ours (another host) is not missed.
UPDATE_OVERLAP = timedelta(minutes=5)
TRIGGER_TAG = "catalog/trigger"
DRY_RUN_TAG = "catalog/dry_run"

IN_PROGRESS_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
FINISHED_STATUSES = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}

LAUNCH_RUN_MUTATION = """
mutation CatalogServerLaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""


class LaunchError(Exception):
    """Dagster refused to create the run; the message says why."""


@dataclass
class RunSummary:
    run_id: str
    provider: str | None
    status: str  # a DagsterRunStatus name: QUEUED, STARTED, SUCCESS, FAILURE, ...
    tags: dict[str, str] = field(default_factory=dict)
    started_at: float | None = None
    ended_at: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # model_catalog's materialization metadata
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in {status.value for status in FINISHED_STATUSES}

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return round(self.ended_at - self.started_at, 3)

    @property
    def dry_run(self) -> bool:
        if "dry_run" in self.metadata:
            return bool(self.metadata["dry_run"])
        return self.tags.get(DRY_RUN_TAG) == "true"


class DagsterRuns:
    """Runs of `catalog_sync` on one instance. `ui_app` is the dagster-webserver ASGI app."""

    def __init__(self, instance: dg.DagsterInstance, ui_app: ASGIApp, location_name: str = CODE_LOCATION_NAME) -> None:
        self.instance = instance
        self._ui_app = ui_app
        self._location_name = location_name
        self._outcomes: OrderedDict[str, tuple[dict[str, Any], str | None]] = OrderedDict()
        self._outcomes_guard = threading.Lock()  # requests read runs from several threads
        self._newest: dict[str, Any] = {}  # provider -> RunRecord of its newest run
        self._newest_read_at: datetime | None = None
        self._newest_guard = threading.Lock()

    async def launch(self, provider: str, *, dry_run: bool, tags: dict[str, str]) -> str:
        variables = {
            "executionParams": {
                "selector": {
                    "repositoryLocationName": self._location_name,
                    "repositoryName": REPOSITORY_NAME,
                    "jobName": JOB_NAME,
                },
                "runConfigData": {"ops": {"model_catalog": {"config": {"dry_run": dry_run}}}},
                "executionMetadata": {
                    "tags": [
                        {"key": key, "value": value}
                        for key, value in {**tags, PARTITION_TAG: provider, DRY_RUN_TAG: str(dry_run).lower()}.items()
                    ]
                },
            }
        }
        transport = httpx.ASGITransport(app=self._ui_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog-server.internal") as client:
            response = await client.post("/graphql", json={"query": LAUNCH_RUN_MUTATION, "variables": variables}, timeout=60)
        try:
            result = response.json()["data"]["launchRun"]
        except (ValueError, KeyError, TypeError):
            raise LaunchError(f"the Dagster GraphQL API answered HTTP {response.status_code}") from None
        if result.get("__typename") == "LaunchRunSuccess":
            return result["run"]["runId"]
        reasons = [error["message"] for error in result.get("errors") or []] or [result.get("message") or ""]
        raise LaunchError(f"{result.get('__typename')}: {'; '.join(reasons)}".rstrip(": "))

    def active_run_id(self, provider: str) -> str | None:
        """A queued or running run of this provider (any job, any trigger), or None. A started run
        whose process is gone, or which is past the run deadline, is failed first and does not count."""
        fail_dead_runs(self.instance, provider)
        records = self.instance.get_run_records(
            filters=dg.RunsFilter(statuses=IN_PROGRESS_STATUSES, tags={PARTITION_TAG: provider}), limit=1
        )
        return records[0].dagster_run.run_id if records else None

    def last_runs(self, providers: list[str]) -> dict[str, RunSummary]:
        """The newest run of each provider that has one. The first call reads each provider's newest
        run; later calls read, in one query, only the runs created or updated since."""
        with self._newest_guard:
            read_at = datetime.now(timezone.utc)
            if self._newest_read_at is None:
                records = [record for provider in providers for record in self.instance.get_run_records(
                    filters=dg.RunsFilter(tags={PARTITION_TAG: provider}), limit=1)]
            else:
                records = self.instance.get_run_records(filters=dg.RunsFilter(
                    tags={PARTITION_TAG: providers}, updated_after=self._newest_read_at - UPDATE_OVERLAP))
            for record in records:
                provider = record.dagster_run.tags.get(PARTITION_TAG)
                known = self._newest.get(provider)
                if known is None or record.storage_id >= known.storage_id:
                    self._newest[provider] = record
            self._newest_read_at = read_at
            newest = [self._newest[provider] for provider in providers if provider in self._newest]
        return {record.dagster_run.tags[PARTITION_TAG]: self._summary(record) for record in newest}

    def summary(self, run_id: str) -> RunSummary | None:
        records = self.instance.get_run_records(filters=dg.RunsFilter(run_ids=[run_id]), limit=1)
        return self._summary(records[0]) if records else None

    async def wait(self, run_id: str, *, timeout: float, poll_seconds: float = 0.5) -> RunSummary | None:
        """The run's summary once it has finished, or its current summary after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            summary = await asyncio.to_thread(self.summary, run_id)
            if summary is None or summary.finished or time.monotonic() >= deadline:
                return summary
            await asyncio.sleep(poll_seconds)

    def _summary(self, record: Any) -> RunSummary:
        run = record.dagster_run
        summary = RunSummary(
            run_id=run.run_id,
            provider=run.tags.get(PARTITION_TAG),
            status=run.status.value,
            tags=dict(run.tags),
            started_at=record.start_time,
            ended_at=record.end_time,
        )
        if summary.finished:
            summary.metadata, summary.error = self._finished_outcome(run.run_id)
        return summary

    def _finished_outcome(self, run_id: str) -> tuple[dict[str, Any], str | None]:
        with self._outcomes_guard:
            if run_id in self._outcomes:
                self._outcomes.move_to_end(run_id)
                return self._outcomes[run_id]
        outcome = self._outcome(run_id)
        with self._outcomes_guard:
            self._outcomes[run_id] = outcome
            while len(self._outcomes) > KEPT_OUTCOMES:
                self._outcomes.popitem(last=False)
        return outcome

    def _outcome(self, run_id: str) -> tuple[dict[str, Any], str | None]:
        records = self.instance.get_records_for_run(run_id, of_type=set(OUTCOME_EVENT_TYPES)).records
        outcome = run_outcome(
            record.event_log_entry.dagster_event for record in records if record.event_log_entry.dagster_event is not None
        )
        return outcome.metadata, outcome.error


def iso(timestamp: float | datetime | None) -> str | None:
    if timestamp is None:
        return None
    if isinstance(timestamp, datetime):
        moment = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=timezone.utc)
    else:
        moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.isoformat()
