"""Sync several providers from Python: one in-process Dagster run per provider, fetches overlapped.

Each provider gets its own run of `catalog_sync` (or `catalog_replay`) on the given instance, so
its partition status and run history are its own and one provider's failure cannot touch
another's rows. Dagster is loaded once, and every provider's HTTP fetch starts up front in a
thread pool (see `pipeline/prefetch.py`), so N providers cost about one slow fetch plus N short
runs rather than N start-ups and N fetches in a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import dagster as dg

from catalog_pipeline.db.second_source import ROUTER_SLUG
from catalog_pipeline.defs.reporting import DIFF_COUNT_KEYS
from catalog_pipeline.pipeline import prefetch
from catalog_pipeline.providers import adapter_for

Status = Literal["ok", "failed", "skipped"]


@dataclass
class ProviderOutcome:
    slug: str
    status: Status
    message: str
    run_id: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    diff: dict[str, Any] | None = None


def sync_providers(
    slugs: list[str],
    *,
    instance: dg.DagsterInstance,
    definitions: dg.Definitions,
    dry_run: bool = False,
    force: bool = False,
    from_archive: bool = False,
    parallel_fetches: int = 8,
    tags: dict[str, str] | None = None,
    log_level: str = "WARNING",
) -> list[ProviderOutcome]:
    job = definitions.resolve_job_def("catalog_replay" if from_archive else "catalog_sync")
    run_config = {
        "ops": {"model_catalog": {"config": {"dry_run": dry_run, "force": force}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    outcomes: dict[str, ProviderOutcome] = {}
    runnable = []
    for slug in slugs:
        reason = None if from_archive else adapter_for(slug).SPEC.missing_key_reason()
        if reason:
            outcomes[slug] = ProviderOutcome(slug, "skipped", f"skipped: {reason}")
        else:
            runnable.append(slug)
    runnable.sort(key=lambda slug: slug != ROUTER_SLUG)  # the others' second-source prices come from it
    apis = definitions.resources["provider_apis"]
    fetches = [] if from_archive else runnable
    with prefetch.prefetching(fetches, apis.fetch_now, max_workers=parallel_fetches):
        for slug in runnable:
            result = job.execute_in_process(
                run_config=run_config,
                instance=instance,
                partition_key=slug,
                tags={"catalog/trigger": "cli", **(tags or {})},
                raise_on_error=False,
            )
            outcomes[slug] = _outcome(slug, result)
    if not dry_run and any(outcome.status == "ok" for outcome in outcomes.values()):
        # Links, discrepancies and exports read every provider's rows: refresh them once, after all.
        definitions.resolve_job_def("catalog_cross_provider").execute_in_process(
            run_config={"loggers": run_config["loggers"]}, instance=instance,
            tags={**(tags or {}), "catalog/trigger": "after-sync"}, raise_on_error=False,
        )
    return [outcomes[slug] for slug in slugs]


def _outcome(slug: str, result: dg.ExecuteInProcessResult) -> ProviderOutcome:
    if not result.success:
        return ProviderOutcome(slug, "failed", failure_message(result), run_id=result.run_id)
    (event,) = result.asset_materializations_for_node("model_catalog")
    metadata = {key: value.value for key, value in event.metadata.items()}
    counts = {k: metadata[k] for k in ("fetched", "transformed", "skipped", *DIFF_COUNT_KEYS) if k in metadata}
    return ProviderOutcome(slug, "ok", metadata["message"], run_id=result.run_id, counts=counts, diff=metadata.get("diff"))


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    """The cause named by a failed blocking check, else by the first failed step."""
    for event in result.all_events:
        evaluation = event.event_specific_data if event.event_type_value == "ASSET_CHECK_EVALUATION" else None
        if evaluation is not None and not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            detail = evaluation.metadata.get("reason") or evaluation.description
            shown = detail.value if hasattr(detail, "value") else detail
            return f"check {evaluation.asset_check_key.name} failed: {shown}"
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            return data.user_failure_data.description
        if data.error is not None:
            cause = data.error.cause or data.error
            return f"{event.step_key}: {cause.message.strip()}"
    return "run failed without a step failure (see the run in the Dagster UI)"

