"""Instance initialisation is serialised: processes that start at once on a fresh DAGSTER_HOME all
get a working instance, and its SQLite run storage keeps one alembic head."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import sys
import traceback
from pathlib import Path

import pytest

from catalog_pipeline.instance import DAGSTER_HOME_ENV_VAR, open_instance

PROCESSES = 8
ROUNDS = 10


def _open_and_read(home: str, start, errors) -> None:
    os.environ[DAGSTER_HOME_ENV_VAR] = home
    try:
        start.wait(timeout=60)  # every process reaches here before any touches the home
        with open_instance(say=lambda message: None) as instance:
            instance.get_run_records(limit=5)
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        errors.put(traceback.format_exc())


def _alembic_heads(home: Path) -> list[str]:
    with sqlite3.connect(home / "history" / "runs.db") as conn:
        return [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method and flock: Linux only")
def test_processes_starting_at_once_on_a_fresh_home_all_get_a_working_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # fork: children start from this already-imported interpreter, so all of them are ready at once.
    context = multiprocessing.get_context("fork")
    # Dagster imports its storage modules on first use; load them here once, not in every child.
    monkeypatch.setenv(DAGSTER_HOME_ENV_VAR, str(tmp_path / "warm-up"))
    with open_instance(say=lambda message: None):
        pass
    for round_number in range(ROUNDS):
        home = tmp_path / f"home-{round_number}"
        start, errors = context.Barrier(PROCESSES), context.SimpleQueue()
        workers = [context.Process(target=_open_and_read, args=(str(home), start, errors)) for _ in range(PROCESSES)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        failures = []
        while not errors.empty():
            failures.append(errors.get())
        assert failures == [], f"round {round_number}:\n" + "\n".join(failures)
        assert [worker.exitcode for worker in workers] == [0] * PROCESSES
        assert len(_alembic_heads(home)) == 1, f"round {round_number}: run storage has several alembic heads"
