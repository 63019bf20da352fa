"""What a finished catalog run did, read from its Dagster events: one reading for the CLI
(in-process results) and the admin API (runs stored in the instance)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from .reporting import DIFF_COUNT_KEYS

CATALOG_ASSET = dg.AssetKey("model_catalog")
# The event types `run_outcome` reads; the server asks the instance for these only.
OUTCOME_EVENT_TYPES = frozenset({
    dg.DagsterEventType.ASSET_MATERIALIZATION,
    dg.DagsterEventType.ASSET_OBSERVATION,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.RUN_FAILURE,
    dg.DagsterEventType.RUN_CANCELED,
})


@dataclass
class RunOutcome:
    metadata: dict[str, Any] = field(default_factory=dict)  # model_catalog's materialization metadata
    error: str | None = None  # None unless the run failed or was canceled
    skipped: str | None = None  # why raw_models produced nothing (a provider without its key)


def run_outcome(events: Iterable[dg.DagsterEvent]) -> RunOutcome:
    """The catalog's metadata, why raw_models skipped, and why the run failed: a failed blocking
    check, else the first failed step, else the run's own failure or cancellation."""
    outcome = RunOutcome()
    failed_check: str | None = None
    step_error: str | None = None
    run_error: str | None = None
    for event in events:
        kind = event.event_type
        if kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization
            if materialization.asset_key == CATALOG_ASSET:
                outcome.metadata = {key: value.value for key, value in materialization.metadata.items()}
        elif kind == dg.DagsterEventType.ASSET_OBSERVATION:
            reason = event.asset_observation_data.asset_observation.metadata.get("skipped_reason")
            if reason is not None and outcome.skipped is None:
                outcome.skipped = reason.value
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if failed_check is None and not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
                detail = evaluation.metadata.get("reason") or evaluation.description
                shown = detail.value if hasattr(detail, "value") else detail
                failed_check = f"check {evaluation.asset_check_key.name} failed: {shown}"
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            step_error = step_error or _step_failure_message(event)
        elif kind in (dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.RUN_CANCELED):
            run_error = run_error or event.message or kind.value.lower().replace("_", " ")
    if step_error or run_error:
        outcome.error = failed_check or step_error or run_error
    return outcome


def _step_failure_message(event: dg.DagsterEvent) -> str:
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    if data.error is not None:
        cause = data.error.cause or data.error
        return f"{event.step_key}: {cause.message.strip()}"
    return event.message or f"{event.step_key} failed"


def sync_counts(metadata: dict[str, Any]) -> dict[str, Any]:
    """A sync's counts as the CLI and the API report them, from model_catalog's metadata."""
    dry_run = bool(metadata.get("dry_run"))
    transformed = metadata.get("transformed")
    counts = {
        "message": metadata.get("message"),
        "provider_id": metadata.get("provider_id"),
        "dry_run": dry_run,
        "models_fetched": metadata.get("fetched"),
        "models_transformed": transformed,
        "models_synced": 0 if dry_run else transformed,
        "models_skipped": metadata.get("skipped"),
        **{key: metadata.get(key) for key in DIFF_COUNT_KEYS},
    }
    if dry_run:
        counts["diff"] = metadata.get("diff")
    return counts
