"""`sync-models` on more than one core: worker processes sync a share of the providers each.

A provider's run is Python under one GIL (Dagster's bookkeeping, pandas, spelling the COPY text), so
one process keeps one core busy however many fetches are in flight. A worker is started first thing,
before the command imports Dagster, so both import it at once on their own cores; it is then
given its share of the providers, fetches them (in a child process of its own, where its runs
never hold the fetches up: fetch_process.py), and waits. The main process keeps the router (its
offers are the others' second price source) and tells the workers to start their runs once the
router's run is over. It also keeps every cross-provider refresh, the last one after every worker
has reported. All runs are recorded in the same instance and lock their provider's rows as any two
runs of different providers do (the daemon runs several at once too).

Protocol, one JSON line each on the worker's stdin: its assignment (`{"providers": [...], ...}`;
no providers: exit), then `{"go": true}`. The worker writes its outcomes as JSON to the pipe whose
descriptor its command line names, before it shuts down; a worker that ends without writing them
fails its providers, with its exit code.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catalog_pipeline.sync import ProviderOutcome

MIN_PROVIDERS_PER_WORKER = 2  # below this a worker's start-up costs more than its runs save
WORKER_EXIT_NO_GO = 3
EXIT_GRACE_SECONDS = 10  # for a worker that has reported to shut down before it is terminated


def worker_count(requested: int | None, parallel_fetches: int) -> int:
    """Processes for a sync: as asked, else one per core, at most two (the main and one worker);
    never more than `parallel_fetches`, the fetches in flight over all of them (each has one)."""
    processes = max(1, requested) if requested is not None else min(2, os.cpu_count() or 1)
    return min(processes, max(1, parallel_fetches))


def split_providers(
    runnable: list[str], router: str, processes: int, last_fetch_pages: Mapping[str, int] | None = None
) -> list[list[str]]:
    """`runnable` dealt round-robin into one share per process, the router first in the first
    (the main process's) share. A share below MIN_PROVIDERS_PER_WORKER goes back to the main one.

    A provider whose last fetch took more requests than all the others' together (its paging is
    sequential: fal asks for its prices 50 models at a time) has the last worker to itself. Its
    fetch outlasts the rest of the sync, and in a process of its own it waits for no other thread's
    JSON parsing or run between two of its requests (seen here: 5 s over 400 requests)."""
    long_fetch = longest_fetch(runnable, router, last_fetch_pages or {}) if processes > 1 else None
    if long_fetch is not None:
        return [*split_providers([slug for slug in runnable if slug != long_fetch], router, processes - 1), [long_fetch]]
    others = [slug for slug in runnable if slug != router]
    shares = [others[index::processes] for index in range(processes)]
    main, workers = shares[0], [share for share in shares[1:] if len(share) >= MIN_PROVIDERS_PER_WORKER]
    main += [slug for share in shares[1:] if len(share) < MIN_PROVIDERS_PER_WORKER for slug in share]
    return [([router] if router in runnable else []) + main, *workers]


def longest_fetch(runnable: list[str], router: str, last_fetch_pages: Mapping[str, int]) -> str | None:
    """The provider whose last fetch took more requests than all the others' together, if any."""
    pages = {slug: last_fetch_pages.get(slug, 1) for slug in runnable}  # never fetched: one request
    candidates = [slug for slug in runnable if slug != router and slug in last_fetch_pages]
    if not candidates:
        return None
    longest = max(candidates, key=pages.__getitem__)
    return longest if pages[longest] > sum(pages.values()) - pages[longest] else None


class SyncWorkers:
    """The worker processes of one `sync-models` call (none when `count` is 0)."""

    def __init__(self, count: int, command: list[str] | None = None) -> None:
        """`command`: the worker's program, given the report pipe's descriptor as its last argument."""
        command = command or [sys.executable, "-m", "catalog_pipeline.sync_workers"]
        self._processes: list[subprocess.Popen] = []
        self._reports: list[int] = []  # the read end of each worker's outcomes pipe
        self._shares: list[list[str]] = []
        for _ in range(count):
            read_end, write_end = os.pipe()
            self._processes.append(subprocess.Popen(
                [*command, str(write_end)],
                stdin=subprocess.PIPE, text=True, pass_fds=(write_end,),
            ))
            os.close(write_end)
            self._reports.append(read_end)

    def __len__(self) -> int:
        return len(self._processes)

    def assign(self, shares: list[list[str]], options: dict[str, Any]) -> None:
        """Each worker its share, in order (a worker left without one exits), and the sync's
        options, among them the catalog URL, which may carry a password: a pipe, not argv."""
        self._shares = [shares[index] if index < len(shares) else [] for index in range(len(self._processes))]
        for process, share in zip(self._processes, self._shares):
            self._send(process, {"providers": share, **options})
            if not share:
                process.stdin.close()

    def go(self) -> None:
        for process, share in zip(self._processes, self._shares):
            if share and not process.stdin.closed:
                self._send(process, {"go": True})
                process.stdin.close()  # nothing more to say

    def outcomes(self) -> list["ProviderOutcome"]:
        """Waits for every worker's report (not for its exit: the report is written first); a worker
        that ended without one fails each of its providers."""
        from catalog_pipeline.sync import ProviderOutcome

        reported = []
        for index, (process, share) in enumerate(zip(self._processes, self._shares)):
            if not share:
                continue
            with os.fdopen(self._reports[index], "rb") as pipe:
                self._reports[index] = -1
                report = pipe.read()  # to the end: the worker closed it, or ended
            try:
                reported += [ProviderOutcome(**outcome) for outcome in json.loads(report)] if report else []
            except (ValueError, TypeError) as exc:  # cut short or not a list of outcomes
                reported += [ProviderOutcome(slug, "failed", f"the sync worker process (pid {process.pid}) sent"
                                             f" an unreadable report ({type(exc).__name__}); any run it started is"
                                             " in the Dagster run history") for slug in share]
                continue
            if not report:
                message = (f"the sync worker process (pid {process.pid}) ended with exit code {process.wait()} before"
                           " it reported; any run it started is in the Dagster run history")
                reported += [ProviderOutcome(slug, "failed", message) for slug in share]
        return reported

    def close(self) -> None:
        for process in self._processes:
            try:
                process.wait(timeout=EXIT_GRACE_SECONDS if process.stdin.closed else 0)
            except subprocess.TimeoutExpired:
                process.terminate()
                process.wait()
            finally:
                process.stdin.close()
        for read_end in self._reports:
            if read_end >= 0:
                os.close(read_end)
        self._processes, self._reports = [], []

    def __enter__(self) -> "SyncWorkers":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    @staticmethod
    def _send(process: subprocess.Popen, message: dict[str, Any]) -> None:
        try:
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it has ended: outcomes() reports its exit code


def _read_message() -> dict[str, Any]:
    line = sys.stdin.readline()
    if not line:  # the main process has gone
        sys.exit(WORKER_EXIT_NO_GO)
    return json.loads(line)


def _wait_for_go() -> None:
    if not _read_message().get("go"):
        sys.exit(WORKER_EXIT_NO_GO)


def worker_main(report_fd: int) -> int:
    """One worker: its share of the providers, synced in this process, no cross-provider refresh."""
    from catalog_pipeline.collector import set_aside_lasting_objects, stop_collecting
    from catalog_pipeline.fetch_process import FetchProcess
    from catalog_pipeline.pipeline.http import HttpPolicy
    from catalog_pipeline.settings import load_settings

    assignment = _read_message()
    if not assignment.get("providers"):
        return 0
    settings = load_settings()
    # The fetches start before Dagster is imported (1.3-1.6 s here): the slowest provider's fetch
    # is often the sync's longest path. Its runs wait for the router's anyway. They run in a child
    # process, forked now while this one has a single thread, where this one's runs never hold
    # them up (fetch_process.py).
    set_aside_lasting_objects()  # what the fetch children inherit: their collectors never walk it
    fetching = FetchProcess(
        [] if assignment["from_archive"] else assignment["providers"], HttpPolicy(), settings,
        max_workers=assignment["parallel_fetches"], close_in_child=(report_fd,),
    )
    started = fetching.futures
    from catalog_pipeline.definitions import defs
    from catalog_pipeline.defs.resources import CatalogDatabase
    from catalog_pipeline.instance import open_instance
    from catalog_pipeline.sync import sync_providers

    catalog_db = CatalogDatabase(url=assignment.get("database_url") or settings.database_url)
    definitions = defs()
    with fetching, open_instance(say=lambda text: None) as instance:
        set_aside_lasting_objects()
        stop_collecting()
        outcomes = sync_providers(
            assignment["providers"],
            instance=instance,
            definitions=definitions, catalog_db=catalog_db, settings=settings,
            dry_run=assignment["dry_run"], force=assignment["force"], from_archive=assignment["from_archive"],
            parallel_fetches=assignment["parallel_fetches"], log_level=assignment["log_level"],
            refresh_cross_provider=False, before_runs=_wait_for_go, started_fetches=started,
        )
        # Reported before the instance closes and the process ends: the main process's last
        # refresh waits for this, not for the shutdown.
        with os.fdopen(report_fd, "w") as report:
            report.write(json.dumps([asdict(outcome) for outcome in outcomes], default=str))
        if not assignment["dry_run"]:
            _spell_export_parts_ahead(definitions, catalog_db, instance, outcomes)
    return 0


def _spell_export_parts_ahead(definitions, catalog_db, instance, outcomes: list["ProviderOutcome"]) -> None:
    """The main process now links the rows of every run, then exports them; the provider this
    process ran last is what it waits on. Meanwhile, on the other core, that provider's parts of
    the export files are spelled here (exports/parts.py), so that its export copies them. Its
    links, in the parts' fingerprint, seldom move (never for rows that link to nothing, like most
    of fal's); parts spelled for links that then moved are simply not used."""
    import dagster as dg

    from catalog_pipeline.exports import spell_parts_ahead
    from catalog_pipeline.sync import changed_rows

    changed = {outcome.run_id: outcome.slug for outcome in outcomes if outcome.status == "ok" and changed_rows(outcome)}
    if not changed:
        return
    try:
        runs = instance.get_run_records(dg.RunsFilter(run_ids=list(changed)))
        last = max(runs, key=lambda record: record.end_time or 0).dagster_run.run_id
        paths = definitions.resources["catalog_export_files"].prepared_paths()  # none may have been exported yet
        spell_parts_ahead(catalog_db.engine(), paths, changed[last])
    except Exception as exc:  # noqa: BLE001 - only time is lost: the export spells them itself, and says what fails
        logging.getLogger(__name__).debug("export parts not spelled ahead: %s", type(exc).__name__)


if __name__ == "__main__":
    from catalog_pipeline.cli.common import exit_without_teardown

    exit_without_teardown(worker_main(int(sys.argv[1])))
