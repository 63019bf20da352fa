"""The longest test files start first. Under `--dist loadfile` a file runs whole on one worker, so a
long file handed out late sets the end of the suite; xdist's own order (most tests first) sends
the few files that start servers and subprocesses, with few tests each, near the end.

Every run records each file's seconds (setup, call and teardown of its tests) in pytest's cache;
the next run sorts the files by them. A file with no record yet counts SECONDS_PER_TEST a test,
unless SEED_SECONDS knows better (a first run on a fresh clone, before any record)."""

from __future__ import annotations

from collections import defaultdict

import pytest

CACHE_KEY = "catalog/file_seconds"
SECONDS_PER_TEST = 0.2
# Seconds each took in one whole-suite run (4 workers, 2 busy cores), for a first run only; the
# cache supersedes them.
SEED_SECONDS = {
    "catalog_pipeline_tests/test_sync_pipeline.py": 140.0,
    "catalog_pipeline_tests/test_server_runs.py": 133.0,
    "catalog_pipeline_tests/test_guardrails.py": 130.0,
    "catalog_pipeline_tests/test_across_providers.py": 125.0,
    "catalog_pipeline_tests/test_fresh_clone.py": 124.0,
    "catalog_pipeline_tests/test_storable_entries.py": 100.0,
    "catalog_pipeline_tests/test_server_process.py": 93.0,
    "catalog_pipeline_tests/test_cli.py": 71.0,
    "catalog_pipeline_tests/test_load_guards.py": 64.0,
    "catalog_pipeline_tests/test_hostile_http.py": 60.0,
    "catalog_pipeline_tests/test_across_providers_cli.py": 50.0,
    "catalog_pipeline_tests/test_server_unit.py": 37.0,
    "catalog_pipeline_tests/test_migrations.py": 33.0,
    "catalog_pipeline_tests/test_instance_init.py": 31.0,
}


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def order_by_recorded_seconds(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Stable: the tests of one file keep their order, files move as wholes."""
    cache = getattr(config, "cache", None)  # absent under -p no:cacheprovider
    recorded = cache.get(CACHE_KEY, {}) if cache is not None else {}
    tests = defaultdict(int)
    for item in items:
        tests[file_of(item.nodeid)] += 1

    def seconds(path: str) -> float:
        return recorded.get(path, SEED_SECONDS.get(path, SECONDS_PER_TEST * tests[path]))

    items.sort(key=lambda item: -seconds(file_of(item.nodeid)))


class FileSeconds:
    """Sums the reports' durations by file (on the xdist controller, reports come from every
    worker) and merges them into the cache at the end of the session."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[file_of(report.nodeid)] += report.duration

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        cache = session.config.cache
        if self.seconds:
            cache.set(CACHE_KEY, {**cache.get(CACHE_KEY, {}), **{path: round(s, 1) for path, s in self.seconds.items()}})


def register(config: pytest.Config) -> None:
    """Records on the controller (or the only process with -n 0), never on an xdist worker."""
    if not hasattr(config, "workerinput") and getattr(config, "cache", None) is not None:
        config.pluginmanager.register(FileSeconds(), "catalog-file-seconds")
