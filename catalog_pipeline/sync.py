"""Sync several providers from Python: one in-process Dagster run per provider, fetches overlapped.

Each provider gets its own run of `catalog_sync` (or `catalog_replay`) on the given instance, so
its partition status and run history are its own and one provider's failure cannot touch
another's rows. Dagster is loaded once, and every provider's HTTP fetch starts up front in a
thread pool held by this call's own `PrefetchedProviderApis`, and each provider's run starts as soon
as its fetch is done, so N providers cost about one slow fetch plus N short runs rather than N
start-ups and N fetches in a row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Literal

import dagster as dg
from pydantic import PrivateAttr

from catalog_pipeline.defs.cross_provider import catalog_cross_provider_job, catalog_export_job
from catalog_pipeline.defs.outcome import run_outcome, sync_counts
from catalog_pipeline.defs.resources import CatalogDatabase, ProviderApis
from catalog_pipeline.pipeline.http import FetchedPage, HttpPolicy
from catalog_pipeline.providers import ROUTER_SLUG, adapter_for
from catalog_pipeline.run_liveness import fail_dead_runs, owner_tags
from catalog_pipeline.settings import CatalogSettings, load_settings

_log = logging.getLogger(__name__)
Status = Literal["ok", "failed", "skipped"]
IDLE_REFRESH_MIN_ROWS = 10_000  # changed rows that make a refresh worth its fixed cost while a fetch is awaited
CROSS_PROVIDER_JOB, EXPORT_JOB = catalog_cross_provider_job.name, catalog_export_job.name


@dataclass
class ProviderOutcome:
    slug: str
    status: Status
    message: str
    run_id: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    diff: dict[str, Any] | None = None


class PrefetchedProviderApis(ProviderApis):
    """The provider APIs of one `sync_providers` call: its fetches start at once, and each run's
    fetch step takes its provider's result (pages or the exact error) from here."""

    _pending: dict[str, Future] = PrivateAttr(default_factory=dict)

    @contextmanager
    def prefetching(self, slugs: list[str], *, max_workers: int, started: dict[str, Future] | None = None) -> Iterator[None]:
        """`started`: fetches already under way (a worker starts its own before it imports Dagster),
        taken as they are when made with this policy; the other slugs' fetches start now."""
        started = started if started and self.policy() == HttpPolicy() else {}
        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(slugs))), thread_name_prefix="prefetch") as pool:
            self._pending = {slug: started.get(slug) or pool.submit(ProviderApis.fetch, self, slug) for slug in slugs}
            try:
                yield
            finally:
                for future in self._pending.values():
                    future.cancel()
                self._pending = {}

    def fetch(self, slug: str) -> list[FetchedPage]:
        future = self._pending.pop(slug, None)
        return future.result() if future is not None else super().fetch(slug)

    def in_fetched_order(self, slugs: list[str], while_waiting: Callable[[bool], None] | None = None) -> Iterator[str]:
        """`slugs` as their fetches finish (those not prefetched first), so that a slow provider
        never holds back the runs of the others. `while_waiting(last)` is called whenever the next
        fetch to finish is still under way (`last`: it is the last one)."""
        waiting = {self._pending[slug]: slug for slug in slugs if slug in self._pending}
        yield from (slug for slug in slugs if slug not in waiting.values())
        while len(waiting) > 1:
            if while_waiting is not None and not wait(waiting, timeout=0).done:
                while_waiting(False)
            done, _ = wait(waiting, return_when=FIRST_COMPLETED)
            yield from (waiting.pop(future) for future in list(waiting) if future in done)
        if while_waiting is not None and any(not future.done() for future in waiting):
            while_waiting(True)
        # The last one has nothing left to overtake: its run starts now and waits for its fetch in
        # raw_models, so a slow provider shows as a running run (and carries the owner's PID tag).
        yield from waiting.values()


def sync_providers(
    slugs: list[str],
    *,
    instance: dg.DagsterInstance,
    definitions: dg.Definitions,
    catalog_db: CatalogDatabase | None = None,
    settings: CatalogSettings | None = None,
    dry_run: bool = False,
    force: bool = False,
    from_archive: bool = False,
    parallel_fetches: int = 8,
    tags: dict[str, str] | None = None,
    log_level: str = "WARNING",
    refresh_cross_provider: bool = True,
    before_runs: Callable[[], None] | None = None,
    after_router: Callable[[], None] | None = None,
    other_outcomes: Callable[[], list[ProviderOutcome]] | None = None,
    started_fetches: dict[str, Future] | None = None,
    others_outlast: bool = False,
) -> list[ProviderOutcome]:
    """`catalog_db` and `settings` unset: the definitions' catalog and the settings read now.

    Several processes can share one sync (`sync_workers.py`), each with its own providers. Their
    hooks: `before_runs` is called once the fetches are under way and before the first run (a
    worker waits there for the router's run); `after_router` once the router's run is over, or at
    the start when this call has no router to run; `other_outcomes` waits for the other processes'
    outcomes, which are returned after this call's own and taken in by the last refresh;
    `started_fetches` are the fetches it started before (see `PrefetchedProviderApis`);
    `others_outlast`: the other processes hold a fetch known to outlast this call's runs, so the
    refresh while waiting for them runs whatever the rows changed. A call with
    `refresh_cross_provider=False` leaves every refresh to the process that has the others."""
    run_config = {
        "ops": {"model_catalog": {"config": {"dry_run": dry_run, "force": force}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    configured: ProviderApis = definitions.resources["provider_apis"]
    apis = PrefetchedProviderApis(**configured.model_dump()).using(settings or load_settings())
    resources = {
        # Handed over as is: a ConfigurableResource would be rebuilt from its config, futures lost.
        "provider_apis": dg.ResourceDefinition.hardcoded_resource(apis),
        **({"catalog_db": catalog_db} if catalog_db is not None else {}),
    }
    outcomes: dict[str, ProviderOutcome] = {}
    runnable = []
    never_archived = _never_archived(slugs, catalog_db or definitions.resources["catalog_db"]) if from_archive else set()
    for slug in slugs:
        reason = "no archived model list yet" if slug in never_archived else None
        reason = reason or (None if from_archive else apis.missing_key_reason(adapter_for(slug).SPEC))
        if reason:
            outcomes[slug] = ProviderOutcome(slug, "skipped", f"skipped: {reason}")
        else:
            runnable.append(slug)
    # The router runs first (the others' second-source prices come from it), the rest as fetched.
    router = [slug for slug in runnable if slug == ROUTER_SLUG]
    others = [slug for slug in runnable if slug != ROUTER_SLUG]

    taken_in: set[str] = set()  # providers whose rows a refresh has read since their run

    def refresh(trigger: str, job_name: str = CROSS_PROVIDER_JOB) -> None:
        if not refresh_cross_provider or dry_run or not any(outcome.status == "ok" for outcome in outcomes.values()):
            return
        try:
            succeeded = _refresh_cross_provider(
                definitions, instance, catalog_db, run_config["loggers"], {**(tags or {}), "catalog/trigger": trigger}, job_name
            )
        except Exception as exc:  # noqa: BLE001 - e.g. the instance's storage: the provider runs stand
            # Links and exports are derived: the next refresh takes these rows in again.
            _log.warning("cross-provider refresh (%s) failed, the provider runs are unaffected: %s", trigger,
                         apis.redactor()(f"{type(exc).__name__}: {exc}"))
            return
        if succeeded:  # a failed step (its run says which) leaves these rows for the next refresh
            taken_in.update(outcomes)

    def refresh_while_waiting(last: bool, trigger: str | None = None) -> None:
        # A refresh has a fixed cost (a Dagster run, both export files written whole): in the idle
        # wait for a fetch it is worth it only for enough changed rows; before the last run, always.
        changed = sum(changed_rows(outcome) for slug, outcome in outcomes.items() if slug not in taken_in)
        if last or changed >= IDLE_REFRESH_MIN_ROWS:
            refresh(trigger or ("while-last-fetch" if last else "while-fetching"))

    with apis.prefetching([] if from_archive else runnable, max_workers=parallel_fetches, started=started_fetches):
        # Done while the fetches are under way: the runs start no sooner than the first fetch ends.
        fail_dead_runs(instance)  # a killed earlier sync must not hold its provider
        job = definitions.resolve_job_def("catalog_replay" if from_archive else "catalog_sync")
        if before_runs is not None:
            before_runs()
        if after_router is not None and not router:
            after_router()
        # While fetches are under way, the cross-provider refresh takes in the rows already loaded,
        # so that the one after the last run has only that provider's rows left to link and export.
        for slug in chain(router, apis.in_fetched_order(others, refresh_while_waiting)):
            result = job.execute_in_process(
                run_config=run_config,
                instance=instance,
                partition_key=slug,
                resources=resources,
                tags={"catalog/trigger": "cli", **owner_tags(), **(tags or {})},
                raise_on_error=False,
            )
            outcomes[slug] = _outcome(slug, result)
            if after_router is not None and slug == ROUTER_SLUG:
                after_router()
    others_done = []
    if other_outcomes is not None:
        # The rows loaded so far (the other processes' included) are taken in while they run, so
        # that the last refresh has only their later rows left.
        # With a long fetch elsewhere the wait is long: a refresh then costs nothing, and leaves the
        # last one its work only, with the catalog's pages and this process's code paths warm.
        refresh_while_waiting(others_outlast, "while-workers")
        others_done = other_outcomes()
    outcomes.update((outcome.slug, outcome) for outcome in others_done)
    untaken = [outcome for slug, outcome in outcomes.items() if slug not in taken_in]
    if untaken:  # else the last refresh has already read every run's rows
        # Links and discrepancies read the models' rows and the router's sync time alone: when no
        # run since a refresh of this sync changed a row (a failed run may have), only the export's
        # providers (their sync times) moved.
        rows_moved = not taken_in or any(
            outcome.status == "failed" or changed_rows(outcome) or outcome.slug == ROUTER_SLUG for outcome in untaken
        )
        refresh("after-sync", CROSS_PROVIDER_JOB if rows_moved else EXPORT_JOB)
    return [outcomes[slug] for slug in slugs] + [outcome for outcome in others_done if outcome.slug not in slugs]


def _refresh_cross_provider(definitions, instance, catalog_db, loggers, tags, job_name: str = CROSS_PROVIDER_JOB) -> bool:
    """Links, discrepancies and exports read every provider's rows: refreshed after all runs (and
    while the last fetch is under way), or the exports alone (EXPORT_JOB). A failure here fails no
    provider's sync. True when the run succeeded."""
    if job_name not in {job.name for job in definitions.jobs or []}:
        return True  # definitions without the cross-provider assets (a test's own)
    return definitions.resolve_job_def(job_name).execute_in_process(
        run_config={"loggers": loggers}, instance=instance,
        resources={"catalog_db": catalog_db} if catalog_db is not None else None,
        tags={**owner_tags(), **tags}, raise_on_error=False,
    ).success


def changed_rows(outcome: ProviderOutcome) -> int:
    return sum(outcome.counts.get(key) or 0 for key in ("added", "updated", "reactivated", "deactivated"))


def _never_archived(slugs: list[str], catalog_db: CatalogDatabase) -> set[str]:
    from catalog_pipeline.db.archive import archived_slugs

    with catalog_db.engine().connect() as conn:
        return set(slugs) - archived_slugs(conn)


def _outcome(slug: str, result: dg.ExecuteInProcessResult) -> ProviderOutcome:
    outcome = run_outcome(result.all_events)
    if not result.success:
        message = outcome.error or "run failed without a step failure (see the run in the Dagster UI)"
        return ProviderOutcome(slug, "failed", message, run_id=result.run_id)
    if not outcome.metadata:
        return ProviderOutcome(slug, "skipped", outcome.skipped or "skipped", run_id=result.run_id)
    metadata = outcome.metadata
    return ProviderOutcome(
        slug, "ok", metadata["message"], run_id=result.run_id, counts=sync_counts(metadata), diff=metadata.get("diff")
    )

