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
from catalog_pipeline.run_liveness import fail_dead_runs, owner_tags

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
    fail_dead_runs(instance)  # a killed earlier sync must not hold its provider
    job = definitions.resolve_job_def("catalog_replay" if from_archive else "catalog_sync")
    run_config = {
        "ops": {"model_catalog": {"config": {"dry_run": dry_run, "force": force}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    outcomes: dict[str, ProviderOutcome] = {}
    runnable = []
    never_archived = _never_archived(slugs, definitions) if from_archive else set()
    for slug in slugs:
        reason = "no archived model list yet" if slug in never_archived else None
        reason = reason or (None if from_archive else adapter_for(slug).SPEC.missing_key_reason())
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
                tags={"catalog/trigger": "cli", **owner_tags(), **(tags or {})},
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


def _never_archived(slugs: list[str], definitions: dg.Definitions) -> set[str]:
    from catalog_pipeline.db.archive import archived_slugs

    # build_resources resolves the resource's EnvVar fields exactly as a run would.
    with dg.build_resources({"catalog_db": definitions.resources["catalog_db"]}) as resources:
        with resources.catalog_db.engine().connect() as conn:
            return set(slugs) - archived_slugs(conn)


def _outcome(slug: str, result: dg.ExecuteInProcessResult) -> ProviderOutcome:
    if not result.success:
        return ProviderOutcome(slug, "failed", failure_message(result), run_id=result.run_id)
    if not result.asset_materializations_for_node("model_catalog"):
        return ProviderOutcome(slug, "skipped", skipped_reason(result) or "skipped", run_id=result.run_id)
    (event,) = result.asset_materializations_for_node("model_catalog")
    metadata = {key: value.value for key, value in event.metadata.items()}
    counts = {k: metadata[k] for k in ("fetched", "transformed", "skipped", *DIFF_COUNT_KEYS) if k in metadata}
    return ProviderOutcome(slug, "ok", metadata["message"], run_id=result.run_id, counts=counts, diff=metadata.get("diff"))


def skipped_reason(result: dg.ExecuteInProcessResult) -> str | None:
    """Why a run that succeeded synced nothing, as raw_models recorded it (None if it did not)."""
    for event in result.all_events:
        if event.event_type_value == "ASSET_OBSERVATION":
            reason = event.asset_observation_data.asset_observation.metadata.get("skipped_reason")
            if reason is not None:
                return reason.value
    return None


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

