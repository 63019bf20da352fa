"""How the catalog scales: the load of N models against the COPY floor, and a full `sync-models`.

Usage (from the repository root, after the README's setup):

    python benchmarks/bench_scale.py [--models 100000] [--rounds 3] [--sync-models-per-provider 20000]
                                     [--latency 0.2] [--pages 4] [--skip-load] [--skip-sync]

Prints, in one run:
- load of N models (initial, unchanged re-sync, 10% of prices changed) on PostgreSQL and SQLite,
  each with its time, its ratio to the COPY floor, the rows it wrote and the step's peak RSS;
  on PostgreSQL the best of `--rounds` rounds (each in a new database, floor included), every
  round's time shown beside it;
- the floor: psycopg `COPY ... FROM STDIN` of the same rows (one `write_row` per tuple) into an
  empty table with the same columns and indexes, and the server's own `COPY` of them from a buffer;
- `sync-models` of all 21 providers from a loopback server answering every request after
  `--latency` seconds, paged providers over `--pages` pages: wall time as the command runs (its
  default worker processes included) on a new instance and catalog and again on both, and on one
  process; time per stage of the one-process run, Dagster's bookkeeping per provider run, and the
  ratio of each total to the slowest provider's fetch alone;
  once with the test fixtures' lists and once with `--sync-models-per-provider` models each.

Every step runs in a child process of its own, so each peak RSS is that step's. PostgreSQL is
postgresql://postgres@127.0.0.1:5432 (or $BENCH_ADMIN_URL): a scratch database is created and
dropped, and a CHECKPOINT before each step writes out the pages earlier steps dirtied; the
Dagster instance is a fresh default (SQLite) one in a temporary DAGSTER_HOME.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
LOAD_STEPS = ("initial", "unchanged", "changed")
STEP_LABELS = {"initial": "initial load", "unchanged": "unchanged re-sync", "changed": "10% prices changed"}
TARGETS = {"initial": 1.5, "unchanged": 0.3, "changed": 0.6}  # PostgreSQL, times the write_row floor


def child(*args: str) -> dict:
    """Run `bench_children.py ARGS` in a fresh interpreter; its last stdout line is a JSON result
    (plus `wall`, the whole child process's time, Python start-up included). PostgreSQL first
    writes out what earlier steps left in its buffers, so that no step pays for another's writes."""
    _checkpoint()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_children.py"), *args],
        capture_output=True, text=True, cwd=REPO,
    )
    if done.returncode != 0:
        sys.exit(f"benchmark step {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "wall": time.perf_counter() - started}


def _checkpoint() -> None:
    import psycopg

    try:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.Error as error:  # not a superuser, or no PostgreSQL for a SQLite-only step
        print(f"(no CHECKPOINT before the step: {error})", file=sys.stderr)


@contextmanager
def scratch_postgres() -> Iterator[str]:
    import psycopg

    name = f"catalog_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def machine() -> str:
    cpus = os.cpu_count()
    memory = ""
    try:
        total_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
        memory = f", {total_kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    load = ", load average %.1f %.1f %.1f" % os.getloadavg() if hasattr(os, "getloadavg") else ""
    return f"{platform.machine()}, {cpus} cores{memory}{load}; Python {platform.python_version()}"


def bench_load(models: int, rounds: int) -> None:
    """PostgreSQL: `rounds` rounds, each in a new database (the floor, then the three steps); each
    figure is its best round, each ratio best against best, and every round is shown, because on a
    shared 2-core machine one round's time can move by a fifth. SQLite: one round, no target."""
    print(f"\n== Load of {models:,} models (load_provider_models, frame to commit), PostgreSQL best of {rounds} rounds ==")
    floors, steps = [], {step: [] for step in LOAD_STEPS}
    for _ in range(rounds):
        with scratch_postgres() as url:
            floors.append(child("floor", url, str(models)))
            for step in LOAD_STEPS:
                steps[step].append(child("load", url, str(models), step))
    reference = min(floor["write_row_seconds"] for floor in floors)
    buffer = min(floor["buffer_seconds"] for floor in floors)
    print(f"floor, PostgreSQL: psycopg COPY with write_row per tuple  {reference:7.2f} s"
          f"   peak RSS {max(floor['peak_rss_mib'] for floor in floors):5.0f} MiB   rounds: {_seconds(f['write_row_seconds'] for f in floors)}")
    print(f"floor, PostgreSQL: the server's COPY from one buffer     {buffer:7.2f} s"
          f"   ({buffer / reference:.2f}x the write_row floor)   rounds: {_seconds(f['buffer_seconds'] for f in floors)}")
    print(f"{'':<12}{'step':<20}{'time':>9}{'x floor':>9}{'target':>8}{'rows written':>14}{'peak RSS':>11}   diff")
    for step in LOAD_STEPS:
        best = min(steps[step], key=lambda result: result["seconds"])
        _print_step("postgresql", step, best, reference, max(result["peak_rss_mib"] for result in steps[step]))
        ratios = " ".join(f"{r['seconds'] / f['write_row_seconds']:.2f}x" for r, f in zip(steps[step], floors))
        print(f"{'':<12}  rounds: {_seconds(r['seconds'] for r in steps[step])}   each against its round's floor: {ratios}")
    with tempfile.TemporaryDirectory() as scratch:
        for step in LOAD_STEPS:
            result = child("load", f"sqlite:///{scratch}/catalog.db", str(models), step)
            _print_step("sqlite", step, result, reference, result["peak_rss_mib"])


def _seconds(values) -> str:
    return " ".join(f"{value:.2f}" for value in values)


def _print_step(database: str, step: str, result: dict, reference: float, peak_rss: float) -> None:
    ratio = result["seconds"] / reference
    target = f"<={TARGETS[step]:.1f}x" if database == "postgresql" else ""
    met = "" if not target else (" ok" if ratio <= TARGETS[step] else " MISSED")
    counts = result["counts"]
    print(f"{database:<12}{STEP_LABELS[step]:<20}{result['seconds']:8.2f}s{ratio:8.2f}x{target:>8}"
          f"{result['rows_written']:>14,}{peak_rss:>7.0f} MiB   "
          f"added {counts['added']}, updated {counts['updated']}, unchanged {counts['unchanged']}{met}")


def bench_memory(models: int) -> None:
    """Peak RSS of an initial load at a quarter, half and all of N: it should grow linearly."""
    sizes = [models // 4, models // 2, models]
    peaks = []
    for size in sizes:
        with scratch_postgres() as url:
            peaks.append(child("load", url, str(size), "initial")["peak_rss_mib"])
    shown = ", ".join(f"{size:,}: {peak:.0f} MiB" for size, peak in zip(sizes, peaks))
    slope = (peaks[-1] - peaks[0]) / (sizes[-1] - sizes[0]) * 1024  # KiB per model
    print(f"peak RSS of an initial load (PostgreSQL) by models: {shown}"
          f"  -> {slope:.1f} KiB per model above {peaks[0] - slope * sizes[0] / 1024:.0f} MiB")


def bench_sync(per_provider: int | None, latency: float, pages: int, parallel_fetches: int) -> None:
    from synthetic_providers import SyntheticProviders

    lists = "the test fixtures' lists" if per_provider is None else f"{per_provider:,} models per provider"
    print(f"\n== sync-models, all providers, {lists}, {latency * 1000:.0f} ms per request, paged providers over {pages} pages ==")
    with SyntheticProviders(per_provider, pages, latency) as server:
        # Every body is encoded before anything is timed, as the fetches alone below find them: a
        # provider's own server costs this machine nothing, and the first sync would otherwise
        # share the cores with this process encoding 21 lists.
        with server.answering_at_once():
            child("fetch-alone", server.url)
        with scratch_postgres() as url:
            whole = child("whole-sync", url, server.url, str(parallel_fetches), "0")
        with scratch_postgres() as url:
            result = child("sync", url, server.url, str(parallel_fetches))
        alone = child("fetch-alone", server.url)
    alone.pop("wall")
    slowest_slug, slowest = max(alone.items(), key=lambda item: item[1])
    stages = result["stages"]
    runs = result["runs"]
    print(f"providers synced: {result['synced']} ok of {runs} ({result['models']:,} models); catalog on PostgreSQL,"
          f" Dagster on a default (SQLite) instance, both new")
    print(f"slowest provider's fetch alone ({slowest_slug})   {slowest:7.2f} s")
    print(f"sync-models as run ({whole['processes']} processes, the default here) [{whole['summary']}]:")
    for key, label in (("first", "first sync: new instance, new catalog"), ("next", "next sync: same instance and catalog")):
        print(f"  {label:<40} {whole[key]:7.2f} s   -> {whole[key] / slowest:.2f}x the slowest fetch,"
              f" {whole[key] - slowest:+.2f} s (target: at most +5 s)")
    print(f"  {'first sync on one process (--workers 1)':<40} {result['wall']:7.2f} s   -> {result['wall'] - slowest:+.2f} s"
          "   (timed stage by stage below)")
    print(f"start-up until the first run (imports, instance)   {result['startup']:7.2f} s")
    print(f"cross-provider refresh while fetches are under way (the rows loaded so far)   {result['while_last_fetch']:7.2f} s")
    print(f"cross-provider refresh after the provider runs (links, offers, exports)   {result['after_runs']:7.2f} s")
    print("one process: time per stage, summed over the provider runs (serial; the fetches overlap them):")
    for stage in ("fetch_wait", "transform", "archive", "load", "bookkeeping"):
        extra = ""
        if stage == "bookkeeping":
            extra = f"   = {stages[stage] / runs:.3f} s per provider run (target < 0.2 s)"
        if stage == "fetch_wait":
            extra = f"   (fetches themselves: {result['fetch_overlapped']:.2f} s in all, on {result['fetch_threads']} threads)"
        print(f"  {stage:<12} {stages[stage]:7.2f} s{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=100_000, help="models in the load benchmark (default 100000)")
    parser.add_argument("--sync-models-per-provider", type=int, default=20_000, help="models per provider in the large sync")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds before the loopback server answers a request")
    parser.add_argument("--pages", type=int, default=4, help="pages of each paged provider's list")
    parser.add_argument("--parallel-fetches", type=int, default=8, help="sync-models --parallel-fetches (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the PostgreSQL load, each in a new database (default 3)")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-sync", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    if not args.skip_load:
        bench_load(args.models, args.rounds)
        bench_memory(args.models)
    if not args.skip_sync:
        bench_sync(None, args.latency, args.pages, args.parallel_fetches)
        if args.sync_models_per_provider:
            bench_sync(args.sync_models_per_provider, args.latency, args.pages, args.parallel_fetches)


if __name__ == "__main__":
    main()
