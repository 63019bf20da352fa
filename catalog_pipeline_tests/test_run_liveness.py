"""A STARTED run that can no longer finish (its `sync-models` process is gone, or it is past the
run deadline) is failed through the instance with the reason, so it never holds its provider.
The killed-process case end to end, with a real `sync-models` and `catalog-server`, is in
test_server_process.py."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid

import dagster as dg
import pytest

from catalog_pipeline.instance import DEFAULT_RUN_DEADLINE_SECONDS, open_instance
from catalog_pipeline.run_liveness import (
    HOST_TAG, MAX_RUNTIME_TAG, PARTITION_TAG, PID_TAG, PROCESS_START_TAG, fail_dead_runs, owner_tags,
)
from catalog_pipeline.server.runs import DagsterRuns


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(tmp_path_factory.mktemp("run_liveness") / "dagster_home"))
        with open_instance(say=lambda message: None) as instance:
            yield instance


@pytest.fixture
def provider() -> str:
    """A partition of this test's own, so the module's shared instance keeps tests independent."""
    return f"provider-{uuid.uuid4().hex[:8]}"


def started_run(instance: dg.DagsterInstance, provider: str, tags: dict[str, str], started_at: float | None = None) -> str:
    run = instance.add_run(dg.DagsterRun(job_name="catalog_sync", run_id=str(uuid.uuid4()), tags={PARTITION_TAG: provider, **tags}))
    start = dg.DagsterEvent(event_type_value=dg.DagsterEventType.RUN_START.value, job_name=run.job_name)
    instance.report_dagster_event(start, run.run_id, timestamp=started_at)
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
    return run.run_id


def gone_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def status(instance: dg.DagsterInstance, run_id: str) -> str:
    return instance.get_run_by_id(run_id).status.value


def failure_message(instance: dg.DagsterInstance, run_id: str) -> str:
    summary = DagsterRuns(instance, ui_app=None).summary(run_id)
    assert summary is not None and summary.status == "FAILURE"
    return summary.error or ""


def test_a_run_whose_process_is_gone_is_failed_with_the_reason(instance, provider):
    pid = gone_pid()
    run_id = started_run(instance, provider, {HOST_TAG: socket.gethostname(), PID_TAG: str(pid)})
    assert fail_dead_runs(instance, provider) == [run_id]
    message = failure_message(instance, run_id)
    assert f"pid {pid} on {socket.gethostname()}" in message and "gone" in message


def test_a_run_whose_process_lives_is_left_alone(instance, provider):
    run_id = started_run(instance, provider, owner_tags())
    assert fail_dead_runs(instance, provider) == []
    assert status(instance, run_id) == "STARTED"


def test_a_reused_pid_does_not_keep_a_dead_run_alive(instance, provider):
    tags = {**owner_tags(), PROCESS_START_TAG: "1"}  # this PID, but a process started at another time
    run_id = started_run(instance, provider, tags)
    assert fail_dead_runs(instance, provider) == [run_id]


def test_another_hosts_run_is_judged_by_the_deadline_only(instance, provider):
    run_id = started_run(instance, provider, {HOST_TAG: "some-other-host.invalid", PID_TAG: str(gone_pid())})
    assert fail_dead_runs(instance, provider) == []
    assert fail_dead_runs(instance, provider, now=time.time() + DEFAULT_RUN_DEADLINE_SECONDS + 60) == [run_id]
    assert "run deadline of 3600 s" in failure_message(instance, run_id)


def test_the_run_deadline_comes_from_the_run_then_the_instance(instance, provider):
    assert instance.run_monitoring_max_runtime_seconds == DEFAULT_RUN_DEADLINE_SECONDS  # the yaml we write
    short = started_run(instance, provider, {MAX_RUNTIME_TAG: "30"}, started_at=time.time() - 60)
    recent = started_run(instance, provider, {}, started_at=time.time() - 60)
    old = started_run(instance, provider, {}, started_at=time.time() - DEFAULT_RUN_DEADLINE_SECONDS - 60)
    assert sorted(fail_dead_runs(instance, provider)) == sorted([short, old])
    assert status(instance, recent) == "STARTED"
    assert "run deadline of 30 s" in failure_message(instance, short)


def test_only_the_named_provider_is_checked(instance, provider):
    mine = started_run(instance, provider, {HOST_TAG: socket.gethostname(), PID_TAG: str(gone_pid())})
    other = started_run(instance, provider + "-other", {HOST_TAG: socket.gethostname(), PID_TAG: str(gone_pid())})
    assert fail_dead_runs(instance, provider) == [mine]
    assert status(instance, other) == "STARTED"
    assert fail_dead_runs(instance, provider + "-other") == [other]


def test_the_server_does_not_count_a_dead_run_as_active(instance, provider):
    runs = DagsterRuns(instance, ui_app=None)
    dead = started_run(instance, provider, {HOST_TAG: socket.gethostname(), PID_TAG: str(gone_pid())})
    alive = started_run(instance, provider + "-alive", owner_tags())
    assert runs.active_run_id(provider) is None
    assert status(instance, dead) == "FAILURE"
    assert runs.active_run_id(provider + "-alive") == alive


def test_the_server_reads_new_and_changed_runs_of_every_provider_in_one_query(instance, provider, monkeypatch):
    first, second, never = provider, provider + "-b", provider + "-never"
    started_run(instance, first, owner_tags())
    newest_first = started_run(instance, first, owner_tags())
    runs = DagsterRuns(instance, ui_app=None)
    latest = runs.last_runs([first, second, never])
    assert {slug: summary.run_id for slug, summary in latest.items()} == {first: newest_first}

    queries = []
    real = instance.get_run_records
    monkeypatch.setattr(instance, "get_run_records", lambda *a, **k: queries.append(k) or real(*a, **k))
    only_second = started_run(instance, second, owner_tags())
    instance.report_run_failed(instance.get_run_by_id(newest_first), "ended")
    latest = runs.last_runs([first, second, never])
    assert {slug: (summary.run_id, summary.status) for slug, summary in latest.items()} == {
        first: (newest_first, "FAILURE"), second: (only_second, "STARTED")}
    assert len(queries) == 1


def test_owner_tags_name_this_process():
    tags = owner_tags()
    assert tags[HOST_TAG] == socket.gethostname() and tags[PID_TAG] == str(os.getpid())


def test_each_sync_models_start_fails_the_dead_runs_first(instance, provider):
    from catalog_pipeline.definitions import defs
    from catalog_pipeline.sync import sync_providers

    dead = started_run(instance, provider, {HOST_TAG: socket.gethostname(), PID_TAG: str(gone_pid())})
    assert sync_providers([], instance=instance, definitions=defs()) == []
    assert "gone" in failure_message(instance, dead)
