"""sync-models on two processes: a worker syncs its share of the providers beside the main one."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import dagster as dg
from sqlalchemy import func, select

from catalog_pipeline.db.archive import archive_pages
from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.schema import models, providers
from catalog_pipeline.db.second_source import ROUTER_SLUG
from catalog_pipeline.exports import FILE_NAMES, FORMATS
from catalog_pipeline.exports.rows import active_catalog
from catalog_pipeline.exports.writer import dumps_compact
from catalog_pipeline.pipeline.http import FetchedPage
from catalog_pipeline.providers import PROVIDER_SLUGS, adapter_for
from catalog_pipeline.run_liveness import PID_TAG
from catalog_pipeline.sync_workers import SyncWorkers, split_providers, worker_count

from .cli_helpers import provider_lines, sync_models
from .test_export_parts import GENERATED_AT
from .fixture_routes import fixture, serve_all_providers
from .http_server import Reply, json_reply


def test_the_router_stays_with_the_main_process_and_the_rest_is_dealt_round_robin():
    runnable = ["a", "b", ROUTER_SLUG, "c", "d", "e"]
    assert split_providers(runnable, ROUTER_SLUG, 2) == [[ROUTER_SLUG, "a", "c", "e"], ["b", "d"]]
    assert split_providers(runnable, ROUTER_SLUG, 1) == [[ROUTER_SLUG, "a", "b", "c", "d", "e"]]
    # A router that will not run (no key) is not in any share; a share too small to pay for a
    # worker's start-up goes back to the main process.
    assert split_providers(["a", "b", "c"], ROUTER_SLUG, 2) == [["a", "c", "b"]]
    assert split_providers(["a", "b", "c", "d"], ROUTER_SLUG, 2) == [["a", "c"], ["b", "d"]]


def test_a_provider_whose_last_fetch_took_more_requests_than_the_others_together_has_a_worker_to_itself():
    runnable = [ROUTER_SLUG, "a", "b", "c", "d", "slow"]
    assert split_providers(runnable, ROUTER_SLUG, 2, {"slow": 6}) == [[ROUTER_SLUG, "a", "b", "c", "d"], ["slow"]]
    # Not more than the others together (each never fetched counts one request): dealt as usual.
    assert split_providers(runnable, ROUTER_SLUG, 2, {"slow": 5}) == split_providers(runnable, ROUTER_SLUG, 2)
    assert split_providers(runnable, ROUTER_SLUG, 2, {"slow": 40, "a": 40}) == split_providers(runnable, ROUTER_SLUG, 2)
    # The router stays with the main process, whatever its fetch; one process keeps everything.
    assert split_providers(runnable, ROUTER_SLUG, 2, {ROUTER_SLUG: 90}) == split_providers(runnable, ROUTER_SLUG, 2)
    assert split_providers(runnable, ROUTER_SLUG, 1, {"slow": 90}) == [runnable]
    assert split_providers(runnable, ROUTER_SLUG, 3, {"slow": 90}) == [[ROUTER_SLUG, "a", "c"], ["b", "d"], ["slow"]]


def test_no_more_processes_than_fetches_in_flight_in_all():
    assert worker_count(2, 8) == 2 and worker_count(None, 8) == min(2, os.cpu_count() or 1)
    assert worker_count(2, 1) == 1  # a worker fetches on a thread of its own: two in flight
    assert worker_count(0, 8) == 1


def test_two_processes_sync_every_provider_and_isolate_a_failing_one_in_the_worker(provider_env, postgres_url):
    serve_all_providers(provider_env)
    _, worker_share = split_providers(PROVIDER_SLUGS, ROUTER_SLUG, 2)
    failing = worker_share[-1]
    # The router's list is answered only once the worker has asked for each of its own, so that a
    # worker not held back until the router's run is over would start its runs during that run.
    simple = [slug for slug in worker_share if slug not in ("fal", "google-vertex")]  # one route each
    asked: set[str] = set()
    lock = threading.Lock()
    worker_asked = threading.Event()

    def asking(slug: str):
        def ask() -> None:
            with lock:
                asked.add(slug)
                if asked == set(simple):
                    worker_asked.set()
        return ask

    for slug in simple:
        path = f"/{slug}{adapter_for(slug).SPEC.endpoint_path}"
        reply = Reply(status=500, body=f"{failing} is down") if slug == failing else json_reply(fixture(f"{slug}_models.json"))
        provider_env.route(path, replace(reply, before_answer=asking(slug)))
    router_path = f"/{ROUTER_SLUG}{adapter_for(ROUTER_SLUG).SPEC.endpoint_path}"
    provider_env.route(router_path, replace(json_reply(fixture(f"{ROUTER_SLUG}_models.json")), hold=worker_asked))
    started = time.time()

    done = sync_models("--workers", "2", database_url=postgres_url)

    assert done.returncode == 1, done.stdout + done.stderr
    lines = provider_lines(done.stdout, PROVIDER_SLUGS)
    assert list(lines) == PROVIDER_SLUGS, done.stdout  # the requested order, whichever process ran each
    assert lines.pop(failing).split()[1] == "FAILED" and "500" in done.stdout
    assert {line.split()[1] for line in lines.values()} == {"OK"}, done.stdout
    assert f"{len(PROVIDER_SLUGS) - 1} synced, 1 failed, 0 skipped" in done.stdout
    with catalog_engine(postgres_url).connect() as conn:
        counts = dict(conn.execute(
            select(providers.c.slug, func.count(models.c.id)).join(models, models.c.provider_id == providers.c.id).group_by(providers.c.slug)
        ).all())
    assert set(counts) == set(PROVIDER_SLUGS) - {failing}

    with dg.DagsterInstance.get() as instance:
        records = [r for r in instance.get_run_records(limit=50) if r.start_time and r.start_time >= started]
    provider_runs = {r.dagster_run.tags["dagster/partition"]: r for r in records if "dagster/partition" in r.dagster_run.tags}
    assert set(provider_runs) == set(PROVIDER_SLUGS)
    pids = {r.dagster_run.tags[PID_TAG] for r in provider_runs.values()}
    assert len(pids) == 2, pids
    worker_pid = provider_runs[worker_share[0]].dagster_run.tags[PID_TAG]
    assert {provider_runs[slug].dagster_run.tags[PID_TAG] for slug in worker_share} == {worker_pid}
    # The others' second-source prices come from the router: no worker run starts before its run ended.
    router_end = provider_runs[ROUTER_SLUG].end_time
    assert all(provider_runs[slug].start_time >= router_end for slug in worker_share)
    # The last cross-provider refresh takes in every provider's rows, the worker's included.
    refreshes = [r for r in records if r.dagster_run.job_name == "catalog_cross_provider"]
    assert refreshes and max(r.start_time for r in refreshes) >= max(r.end_time for r in provider_runs.values())
    # The export files are what one read of the catalog writes, the parts the worker spelled
    # ahead of the last refresh's links included.
    rows = active_catalog(catalog_engine(postgres_url))
    for fmt, name in FILE_NAMES.items():
        written = (Path(os.environ["CATALOG_EXPORT_DIR"]) / name).read_text(encoding="utf-8")
        assert GENERATED_AT.sub("", written) == GENERATED_AT.sub("", dumps_compact(FORMATS[fmt](rows)) + "\n")


def _outcomes_of_worker(tmp_path, source: str) -> list:
    """The outcomes `SyncWorkers` reads from a stand-in worker program, given groq and xai."""
    program = tmp_path / "worker.py"
    program.write_text(source)
    with SyncWorkers(1, command=[sys.executable, str(program)]) as workers:
        workers.assign([["groq", "xai"]], {"dry_run": False})
        workers.go()
        return workers.outcomes()


def test_a_worker_that_ends_without_reporting_fails_each_of_its_providers(tmp_path):
    outcomes = _outcomes_of_worker(tmp_path, "import sys\nsys.stdin.readline()\nsys.stdin.readline()\nsys.exit(7)\n")
    assert [(o.slug, o.status) for o in outcomes] == [("groq", "failed"), ("xai", "failed")]
    assert "ended with exit code 7 before it reported" in outcomes[0].message


def test_a_worker_whose_report_is_cut_short_fails_each_of_its_providers(tmp_path):
    outcomes = _outcomes_of_worker(tmp_path, (
        "import os, sys\n"
        "sys.stdin.readline(); sys.stdin.readline()\n"
        "os.write(int(sys.argv[-1]), b'[{\"slug\": \"groq\", \"sta')\n"
    ))
    assert [(o.slug, o.status) for o in outcomes] == [("groq", "failed"), ("xai", "failed")]
    assert "sent an unreadable report (JSONDecodeError)" in outcomes[1].message


def test_a_worker_reports_its_outcomes_before_it_ends(tmp_path):
    outcomes = _outcomes_of_worker(tmp_path, (
        "import json, os, sys\n"
        "share = json.loads(sys.stdin.readline())['providers']\n"
        "assert json.loads(sys.stdin.readline()) == {'go': True}\n"
        "with os.fdopen(int(sys.argv[-1]), 'w') as report:\n"
        "    report.write(json.dumps([{'slug': s, 'status': 'ok', 'message': 'synced', 'counts': {'added': 1}} for s in share]))\n"
        "sys.stdin.readline()\n"  # still running (until its stdin closes) when the report is read
    ))
    assert [(o.slug, o.status, o.counts) for o in outcomes] == [("groq", "ok", {"added": 1}), ("xai", "ok", {"added": 1})]


def test_a_worker_without_a_share_exits_and_an_early_error_stops_the_worker(provider_env, tmp_path):
    with SyncWorkers(1) as workers:
        process = workers._processes[0]
        workers.assign([], {})
    assert process.returncode == 0

    done = sync_models("--workers", "2", "--providers", "groq", "xai", "nope", database_url=f"sqlite:///{tmp_path / 'c.db'}")
    assert done.returncode == 2 and "unknown provider(s): nope" in done.stderr


def test_the_provider_whose_last_fetch_paged_longest_runs_in_the_worker_alone(provider_env, postgres_url):
    """sync-models reads each provider's last page count from the archive before it deals them."""
    serve_all_providers(provider_env)
    chosen = ["groq", "featherless", "cerebras", "novita"]
    assert split_providers(chosen, ROUTER_SLUG, 2)[1] == ["featherless", "novita"]  # dealt round-robin
    url = f"{provider_env.url}/featherless{adapter_for('featherless').SPEC.endpoint_path}"
    with catalog_engine(postgres_url).begin() as conn:  # its last fetch: more requests than the others' together
        for pages in (1, 12):  # the newest list counts
            archive_pages(conn, "featherless", [FetchedPage.of(f"{url}?page={n}", 200, b'{"data": []}') for n in range(pages)], None)
    started = time.time()

    done = sync_models("--workers", "2", "--providers", *chosen, database_url=postgres_url)

    assert done.returncode == 0, done.stdout + done.stderr
    with dg.DagsterInstance.get() as instance:
        records = [r for r in instance.get_run_records(limit=20) if r.start_time and r.start_time >= started]
    pids = {r.dagster_run.tags["dagster/partition"]: r.dagster_run.tags[PID_TAG] for r in records if "dagster/partition" in r.dagster_run.tags}
    assert set(pids) == set(chosen)
    assert len({pids[slug] for slug in chosen if slug != "featherless"}) == 1, pids
    assert pids["featherless"] != pids["groq"], pids


def test_a_worker_asks_for_its_lists_before_it_imports_dagster(provider_env, tmp_path):
    """The worker's fetches start on its assignment; Dagster (1.3-1.6 s to import) comes after."""
    serve_all_providers(provider_env)
    asked = tmp_path / "asked"
    path = f"/groq{adapter_for('groq').SPEC.endpoint_path}"
    provider_env.route(path, replace(json_reply(fixture("groq_models.json")), before_answer=asked.touch))
    # The real worker, whose import of Dagster waits until groq's list has been asked for (and
    # fails after a minute without it). It waits in the module's execution, not in finding it,
    # which holds the interpreter's import lock that the fetch threads need as well.
    program = (
        "import importlib.abc, importlib.machinery, os, sys, time\n"
        "class Held(importlib.abc.Loader):\n"
        "    def __init__(self, loader): self.loader = loader\n"
        "    def create_module(self, spec): return self.loader.create_module(spec)\n"
        "    def exec_module(self, module):\n"
        "        deadline = time.monotonic() + 60\n"
        f"        while not os.path.exists({str(asked)!r}):\n"
        "            if time.monotonic() > deadline:\n"
        "                raise ImportError('Dagster imported before the list was asked for')\n"
        "            time.sleep(0.01)\n"
        "        module.__loader__ = module.__spec__.loader = self.loader\n"
        "        self.loader.exec_module(module)\n"
        "class HoldDagster(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name != 'dagster':\n"
        "            return None\n"
        "        sys.meta_path.remove(self)\n"
        "        spec = importlib.machinery.PathFinder.find_spec(name, path)\n"
        "        spec.loader = Held(spec.loader)\n"
        "        return spec\n"
        "sys.meta_path.insert(0, HoldDagster())\n"
        "import runpy\n"
        "runpy.run_module('catalog_pipeline.sync_workers', run_name='__main__')\n"
    )
    options = {"dry_run": False, "force": False, "from_archive": False, "parallel_fetches": 2,
               "log_level": "CRITICAL", "database_url": f"sqlite:///{tmp_path / 'catalog.db'}"}
    with SyncWorkers(1, command=[sys.executable, "-c", program]) as workers:
        workers.assign([["groq", "xai"]], options)
        workers.go()
        outcomes = workers.outcomes()
    assert [(o.slug, o.status) for o in outcomes] == [("groq", "ok"), ("xai", "ok")], outcomes
    assert provider_env.hits(path) == 1  # the runs took the fetch already under way


def test_sync_models_deals_out_the_providers_before_it_imports_pandas_or_dagster(provider_env, tmp_path):
    """The worker starts fetching once it has its share: what the main process imports before it
    hands the share over (about 0.3 s for pandas, 1.5 s for Dagster) delays every fetch there."""
    program = (
        "import sys\n"
        "from catalog_pipeline.cli import sync_models\n"
        "from catalog_pipeline.sync_workers import SyncWorkers\n"
        "def assign(self, shares, options):\n"
        "    print(sorted(m for m in ('pandas', 'dagster') if m in sys.modules), flush=True)\n"
        "    raise SystemExit(0)\n"
        "SyncWorkers.assign = assign\n"
        "sync_models.main(['--workers', '2', '--providers', 'groq', 'xai', 'cerebras', 'novita'])\n"
    )
    env = {**os.environ, "CATALOG_DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.db'}"}
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
