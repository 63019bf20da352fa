"""The default instance's storage (catalog_pipeline/dagster_storage.py) records what Dagster's own
SQLite storage records, in the same files: an instance can switch between the two at any time."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from catalog_pipeline.dagster_storage import OPEN_RUN_DATABASES, MirroredComputeLogManager, OpenSqliteEventLogStorage
from catalog_pipeline.instance import prepare_dagster_home


@dg.asset
def counted(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    context.log.info("counting")
    return dg.MaterializeResult(metadata={"n": 1})


def _records(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    return {
        run.run_id: sorted(str(e.dagster_event.event_type_value) for e in instance.all_logs(run.run_id) if e.dagster_event)
        for run in instance.get_runs()
    }


@pytest.fixture
def default_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    return prepare_dagster_home(say=lambda _text: None)


def test_runs_recorded_by_the_default_storage_read_the_same_through_dagsters_own(default_home: Path) -> None:
    runs = OPEN_RUN_DATABASES + 3  # more runs than databases kept open: older engines get disposed
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, OpenSqliteEventLogStorage)
        for _ in range(runs):
            result = dg.materialize([counted], instance=instance)
            assert result.success
        written = _records(instance)
        latest = instance.get_latest_materialization_event(dg.AssetKey("counted"))
        # The asset's own row (latest materialization, last run) follows every run, not the first.
        entry = instance.get_asset_records([dg.AssetKey("counted")])[0].asset_entry
    assert latest.run_id == entry.last_run_id == result.run_id
    assert entry.last_materialization.run_id == result.run_id
    assert len(written) == runs
    assert all("ASSET_MATERIALIZATION" in kinds and "PIPELINE_SUCCESS" in kinds for kinds in written.values())
    # Dagster's own storage, on the same files
    (default_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.get() as plain:
        assert type(plain.event_log_storage) is SqliteEventLogStorage
        assert _records(plain) == written
        assert plain.get_latest_materialization_event(dg.AssetKey("counted")).run_id == latest.run_id
        assert dg.materialize([counted], instance=plain).success  # and it keeps writing there
    (default_home / "dagster.yaml").unlink()
    prepare_dagster_home(say=lambda _text: None)
    with dg.DagsterInstance.get() as again:
        assert len(_records(again)) == runs + 1
        assert dg.materialize([counted], instance=again).success


def test_each_run_database_is_a_complete_one(default_home: Path) -> None:
    with dg.DagsterInstance.get() as instance:
        first = dg.materialize([counted], instance=instance).run_id
        second = dg.materialize([counted], instance=instance).run_id
        logs = {run_id: [e.user_message for e in instance.all_logs(run_id) if not e.dagster_event] for run_id in (first, second)}
    shards = default_home / "history" / "runs"
    assert (shards / f"{first}.db").exists() and (shards / f"{second}.db").exists()
    assert logs[first] == logs[second] == ["counting"]
    # Dagster's own schema check finds each copied database current
    (default_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.get() as plain:
        plain.upgrade()
        assert [e.user_message for e in plain.all_logs(second) if not e.dagster_event] == ["counting"]



@dg.asset
def talkative() -> None:
    print("to stdout")
    print("to stderr", file=sys.stderr)


def test_a_runs_output_is_captured_for_the_ui_and_still_shown_without_starting_a_process(
    default_home: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_process(*args, **kwargs):
        raise AssertionError(f"a run started a process: {args}")

    with dg.DagsterInstance.get() as instance:
        logs = instance.compute_log_manager
        assert isinstance(logs, MirroredComputeLogManager)
        with monkeypatch.context() as patched:
            patched.setattr(subprocess, "Popen", no_process)
            result = dg.materialize([talkative], instance=instance)
        assert result.success
        captured = next(e.dagster_event for e in instance.all_logs(result.run_id) if e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.LOGS_CAPTURED)
        log_key = logs.build_log_key_for_run(result.run_id, captured.logs_captured_data.file_key)
        assert logs.is_capture_complete(log_key)
        data = logs.get_log_data(log_key)
        path = Path(logs.get_captured_local_path(log_key, "out"))
    assert b"to stdout" in data.stdout and b"to stderr" in data.stderr
    assert path.is_relative_to(default_home / "storage")  # where Dagster's own manager keeps them
    shown = capsys.readouterr()
    assert "to stdout" in shown.out and "to stderr" in shown.err


def test_schema_probes_answered_yes_are_not_asked_again(default_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlalchemy

    inspections = []
    inspect = sqlalchemy.inspect
    monkeypatch.setattr(sqlalchemy, "inspect", lambda subject, *a, **k: inspections.append(subject) or inspect(subject, *a, **k))
    with dg.DagsterInstance.get() as instance:
        assert dg.materialize([counted], instance=instance).success
        assert inspections  # the first run asked
        inspections.clear()
        assert dg.materialize([counted], instance=instance).success
        assert inspections == []  # the second asked nothing it had been told yes
        asked = []
        base_has_table = SqliteEventLogStorage.has_table
        monkeypatch.setattr(SqliteEventLogStorage, "has_table", lambda self, name: asked.append(name) or base_has_table(self, name))
        storage = instance.event_log_storage
        assert storage.has_table("asset_check_executions") and storage.has_table("asset_check_executions")
        assert asked == ["asset_check_executions"]
        asked.clear()
        assert not storage.has_table("no_such_table") and not storage.has_table("no_such_table")
        assert asked == ["no_such_table", "no_such_table"]  # a no is asked again, each time
