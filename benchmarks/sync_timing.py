"""`sync-models` with a stopwatch on each stage, and as a whole command, for bench_scale.py (run in
a child process).

The stages are timed by wrapping the functions the assets call; Dagster's bookkeeping is what is
left of each run's wall time: run and step records, events, checks, I/O managers.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from functools import wraps

STARTED = time.perf_counter()


def _environment(catalog_url: str, server_url: str, home: str) -> None:
    from catalog_pipeline.providers import ADAPTERS

    os.environ["DAGSTER_HOME"] = home
    os.environ["CATALOG_DATABASE_URL"] = catalog_url
    os.environ["CATALOG_EXPORT_DIR"] = os.path.join(home, "exports")  # not the user's own exports
    for slug, module in ADAPTERS.items():
        os.environ[module.SPEC.base_url_env_var] = f"{server_url}/{slug}"
        os.environ[module.SPEC.api_key_env_var] = "bench-key"


def _stopwatch(owner, name: str, totals: dict[str, float], stage: str, on_result=None) -> None:
    original = getattr(owner, name)
    lock = threading.Lock()

    @wraps(original)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        result = original(*args, **kwargs)
        with lock:
            totals[stage] += time.perf_counter() - started
        if on_result is not None:
            on_result(result)
        return result

    setattr(owner, name, timed)


def whole_command(catalog_url: str, server_url: str, parallel_fetches: int, workers: int | None) -> dict:
    """`sync-models` as a user runs it (its console entry point, in a new interpreter), with
    `--workers` (None: the default for this machine), twice: on a new instance and catalog, then
    again on both as the first left them, as every scheduled sync after the first runs. Wall time
    from start to exit."""
    import subprocess

    from catalog_pipeline.sync_workers import worker_count

    walls, summaries = [], []
    with tempfile.TemporaryDirectory() as home:
        _environment(catalog_url, server_url, home)
        env = {key: value for key, value in os.environ.items() if key != "CATALOG_SYNC_WORKERS"}
        command = [sys.executable, "-c", "from catalog_pipeline.cli.sync_models import run; run()",
                   "--parallel-fetches", str(parallel_fetches), *(["--workers", str(workers)] if workers else [])]
        for _ in range(2):
            started = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            walls.append(time.perf_counter() - started)
            if done.returncode != 0:
                sys.exit(f"sync-models failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
            summaries.append(done.stdout.strip().splitlines()[-1])
    return {"first": walls[0], "next": walls[1], "processes": worker_count(workers, parallel_fetches), "summary": summaries[0]}


def timed_sync(catalog_url: str, server_url: str, parallel_fetches: int) -> dict:
    with tempfile.TemporaryDirectory() as home:
        _environment(catalog_url, server_url, home)
        import dagster as dg

        from catalog_pipeline.cli import sync_models
        from catalog_pipeline import sync
        from catalog_pipeline.defs import assets, handoff, resources

        totals: dict[str, float] = defaultdict(float)
        models: list[int] = []
        first_run: list[float] = []
        _stopwatch(assets, "entries_of", totals, "transform")
        _stopwatch(handoff, "normalize", totals, "transform")
        # Filling missing prices from the router's offers is part of normalizing, not Dagster's.
        _stopwatch(handoff, "apply_price_sources", totals, "transform")
        _stopwatch(assets, "archive_pages", totals, "archive")
        _stopwatch(handoff, "latest_archive", totals, "archive")
        _stopwatch(assets, "load_provider_models", totals, "load", lambda report: models.append(sum(report.diff.counts()[k] for k in ("added", "updated", "unchanged"))))
        # A run's fetch step waits on its provider's prefetch; the prefetch threads run the fetches.
        _stopwatch(sync.PrefetchedProviderApis, "fetch", totals, "fetch_wait")
        _stopwatch(resources.ProviderApis, "fetch", totals, "fetch_overlapped")
        original_execute = dg.JobDefinition.execute_in_process

        def execute(self, *args, **kwargs):
            if not first_run:
                first_run.append(time.perf_counter())
            started = time.perf_counter()
            try:
                return original_execute(self, *args, **kwargs)
            finally:
                if kwargs.get("partition_key"):  # a provider's run
                    totals["runs"] += time.perf_counter() - started
                    totals["run_count"] += 1
                elif (kwargs.get("tags") or {}).get("catalog/trigger") in ("while-fetching", "while-last-fetch"):
                    totals["while_last_fetch"] += time.perf_counter() - started
                else:  # the cross-provider refresh after them
                    totals["after_runs"] += time.perf_counter() - started

        dg.JobDefinition.execute_in_process = execute
        # One process, so that every run is timed here (a worker's runs would be in another).
        code = sync_models.main(["--parallel-fetches", str(parallel_fetches), "--workers", "1"])
        ended = time.perf_counter()
    work = sum(totals[s] for s in ("fetch_wait", "transform", "archive", "load"))
    return {
        "exit_code": code,
        "in_process": ended - STARTED,
        "startup": (first_run[0] if first_run else ended) - STARTED,
        "runs": int(totals["run_count"]),
        "synced": len(models),
        "models": sum(models),
        "fetch_overlapped": totals["fetch_overlapped"],
        "fetch_threads": parallel_fetches,
        "after_runs": totals["after_runs"],
        "while_last_fetch": totals["while_last_fetch"],
        "stages": {**{s: totals[s] for s in ("fetch_wait", "transform", "archive", "load")}, "bookkeeping": totals["runs"] - work},
    }


def fetch_alone(server_url: str) -> dict[str, float]:
    """Each provider's complete fetch with nothing else running, one after another."""
    from catalog_pipeline.defs.resources import ProviderApis
    from catalog_pipeline.providers import ADAPTERS
    from catalog_pipeline.settings import load_settings

    with tempfile.TemporaryDirectory() as home:
        _environment("sqlite://", server_url, home)
        apis = ProviderApis().using(load_settings())
        alone = {}
        for slug in ADAPTERS:
            started = time.perf_counter()
            apis.fetch(slug)
            alone[slug] = time.perf_counter() - started
    return alone


if __name__ == "__main__":
    sys.exit("run through benchmarks/bench_scale.py")
