"""The default instance's storage (catalog_pipeline/dagster_storage.py) records what Dagster's own
SQLite storage records, in the same files: an instance can switch between the two at any time."""

from pathlib import Path

import dagster as dg
import pytest

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from catalog_pipeline.dagster_storage import OPEN_RUN_DATABASES, OpenSqliteEventLogStorage
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
            assert dg.materialize([counted], instance=instance).success
        written = _records(instance)
        latest = instance.get_latest_materialization_event(dg.AssetKey("counted"))
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
