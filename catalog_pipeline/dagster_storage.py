"""Dagster's SQLite storage, keeping its database connections open between writes.

Dagster's own SQLite storages create an engine and open a connection for every event they
record, then close it. Closing the last connection to a WAL database checkpoints it (two more
fsyncs), so a provider's run (about 50 events) spent most of its bookkeeping time waiting on the
disk. This storage keeps one engine per database file, so connections stay open, and commits with
`synchronous=NORMAL`, SQLite's recommended setting in WAL mode: a crashed process loses nothing,
a power cut can lose the last commits but never corrupts the file. Files, schema and layout are
Dagster's own, so an instance can switch to or from it in its dagster.yaml at any time.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence, TextIO

from dagster import Field, Float, StringSource
from dagster.version import __version__ as dagster_version

from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import AssetKeyTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.instance.ref import compute_logs_directory
from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.compute_log_manager import CapturedLogContext, ComputeIOType
from dagster._core.storage.local_compute_log_manager import IO_TYPE_EXTENSION, LocalComputeLogManager
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._utils import ensure_file, touch_file
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

# Per-run event databases: a webserver reads many runs, so only the most recent stay open.
OPEN_RUN_DATABASES = 8
BUSY_TIMEOUT_SECONDS = 30


def _open_engine(url: str) -> Engine:
    # check_same_thread=False: the pool hands a connection to one thread at a time, and Dagster's
    # event watchers read from their own threads.
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    return engine


class _Engines:
    """Engines by URL, the least recently used beyond `keep` disposed."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str) -> Engine:
        with self._lock:
            engine = self._engines.pop(url, None) or _open_engine(url)
            self._engines[url] = engine
            while len(self._engines) > self._keep:
                # Closing the last connection to a WAL database checkpoints it (about 5 ms, in
                # SQLite's C code): done beside the run that opened a new database, not in it.
                threading.Thread(target=self._engines.popitem(last=False)[1].dispose, name="close-run-db", daemon=True).start()
            return engine

    def dispose(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()


class _RemembersTrueProbes:
    """Dagster asks its SQLite storage, several times per event and run, whether a table, column or
    data migration exists: each time a schema inspection, `has_table` on a connection of its own.
    Migrations only ever add them, so a yes is kept for the life of the storage (as Dagster's
    PostgreSQL storage keeps its secondary indexes); a no is asked again."""

    def _probe(self, key: tuple, ask: Callable[[], bool]) -> bool:
        known = self.__dict__.setdefault("_true_probes", set())
        if key in known:
            return True
        answer = ask()
        if answer:
            known.add(key)
        return answer


class OpenSqliteRunStorage(_RemembersTrueProbes, SqliteRunStorage):
    def __init__(self, conn_string: str, inst_data=None) -> None:
        self._open_engines = _Engines(keep=1)
        super().__init__(conn_string, inst_data)

    def has_built_index(self, migration_name: str) -> bool:
        return self._probe(("index", migration_name), lambda: super(OpenSqliteRunStorage, self).has_built_index(migration_name))

    def has_run_stats_index_cols(self) -> bool:
        return self._probe(("run_stats",), super().has_run_stats_index_cols)

    def has_bulk_actions_selector_cols(self) -> bool:
        return self._probe(("bulk_actions_selector",), super().has_bulk_actions_selector_cols)

    def has_backfill_id_column(self) -> bool:
        return self._probe(("backfill_id",), super().has_backfill_id_column)

    def has_bulk_action_job_name_column(self) -> bool:
        return self._probe(("bulk_action_job_name",), super().has_bulk_action_job_name_column)

    def has_backfill_tags_table(self) -> bool:
        return self._probe(("backfill_tags",), super().has_backfill_tags_table)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._open_engines.get(self._conn_string).connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        self._open_engines.dispose()
        super().dispose()


class OpenSqliteEventLogStorage(_RemembersTrueProbes, SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data=None) -> None:
        self._open_engines = _Engines(keep=OPEN_RUN_DATABASES + 1)  # + the index shard
        super().__init__(base_dir, inst_data)

    def has_table(self, table_name: str) -> bool:
        return self._probe(("table", table_name), lambda: super(OpenSqliteEventLogStorage, self).has_table(table_name))

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        ask = super()._has_asset_key_col_on_connection
        return self._probe(("asset_key_column", column_name), lambda: ask(conn, column_name))

    def has_secondary_index(self, name: str) -> bool:
        return self._probe(("index", name), lambda: super(OpenSqliteEventLogStorage, self).has_secondary_index(name))

    def _store_asset_event(self, conn: Connection, event: EventLogEntry, event_id: int) -> None:
        """Dagster's row per asset key, updated first. Dagster inserts first and updates when the
        key exists, that is on every event of an asset but its first: an IntegrityError that
        SQLAlchemy wraps, with the statement and its parameters (the event's JSON) rendered into
        its message, three planned events and three materializations per provider run."""
        if not (event.dagster_event and event.dagster_event.asset_key):
            return
        values = self._get_asset_entry_values(event, event_id, self._has_asset_key_index_cols_on_connection(conn))
        if not values:
            return
        key = event.dagster_event.asset_key.to_string()
        update = AssetKeyTable.update().values(**values).where(AssetKeyTable.c.asset_key == key)
        if conn.execute(update).rowcount:
            return
        try:
            conn.execute(AssetKeyTable.insert().values(asset_key=key, **values))
        except IntegrityError:  # another process inserted the key since the update
            conn.execute(update)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            if shard not in self._initialized_dbs and self._created_from_template(shard):
                self._initialized_dbs.add(shard)
            engine = self._open_engines.get(self.conn_string_for_shard(shard))
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _created_from_template(self, shard: str) -> bool:
        """Whether this call made the shard's database, as a copy of an empty one: creating its
        tables and indexes and checking its schema version took a third of a run's bookkeeping."""
        target = Path(self.path_for_shard(shard))
        if shard == INDEX_SHARD_NAME or target.exists():
            return False
        template = self.run_database_template()
        copied = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}")
        shutil.copyfile(template, copied)
        try:
            os.link(copied, target)  # never over a database another process has just made
        except FileExistsError:
            return False
        finally:
            copied.unlink()
        return True

    def run_database_template(self) -> Path:
        """The empty run database new runs' databases are copied from, made once per instance and
        Dagster version (loading Dagster's migration scripts to stamp it takes about 0.3 s)."""
        template = Path(self._base_dir).parent / f"event_log_template-{dagster_version}.db"
        if not template.exists():
            building = template.with_name(f"{template.name}.{os.getpid()}.{threading.get_ident()}")
            engine = create_engine(f"sqlite:///{building}", poolclass=NullPool)
            SqliteEventLogStorage._initdb(self, engine)
            engine.dispose()  # the last connection closed: the file is complete, its WAL folded in
            os.replace(building, template)
        return template

    def dispose(self) -> None:
        self._open_engines.dispose()
        super().dispose()


class OpenSqliteStorage(DagsterSqliteStorage):
    """`storage: custom: {module: catalog_pipeline.dagster_storage, class: OpenSqliteStorage,
    config: {base_dir: ...}}`: Dagster's default SQLite storage with open connections."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        # DagsterSqliteStorage.__init__ with the two storages above in place of Dagster's.
        self.base_dir = base_dir
        self._run_storage = OpenSqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = OpenSqliteEventLogStorage(_event_logs_directory(base_dir))
        # Made with the instance (under open_instance's lock), not by the first run that needs it.
        self._event_log_storage.run_database_template()
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        DagsterStorage.__init__(self)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> "OpenSqliteStorage":
        return cls.from_local(inst_data=inst_data, **config_value)


class _Tee(io.TextIOBase):
    """Writes to the stream it replaces and to the run's log file."""

    def __init__(self, stream: TextIO, copy: TextIO) -> None:
        self._stream = stream
        self._copy = copy

    def write(self, text: str) -> int:
        self._stream.write(text)
        self._copy.write(text)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()
        self._copy.flush()

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", "utf-8")

    def __getattr__(self, name: str):
        return getattr(self._stream, name)  # e.g. `buffer`: bytes written there are shown, not captured


class MirroredComputeLogManager(LocalComputeLogManager):
    """`compute_logs: {module: catalog_pipeline.dagster_storage, class: MirroredComputeLogManager,
    config: {instance_home: ...}}`: Dagster's local compute logs, in the same files (under
    `instance_home`/storage, as by default), still shown on the terminal too.

    Dagster's own mirrors the captured output back to the terminal with a `tail -F` process and a
    Python watcher process for each of stdout and stderr: four processes started and stopped for
    every run, which cost an in-process provider run more than its bookkeeping did. Here the run's
    `sys.stdout` and `sys.stderr` write to both: what Python code prints (steps, Dagster's console
    logger) is captured; output a child process writes straight to the file descriptors is not.
    """

    def __init__(self, instance_home: str, polling_timeout: float | None = None, inst_data=None) -> None:
        self._instance_home = instance_home
        super().__init__(compute_logs_directory(instance_home), polling_timeout, inst_data)

    @classmethod
    def config_type(cls):
        return {"instance_home": StringSource, "polling_timeout": Field(Float, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> "MirroredComputeLogManager":
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def capture_logs(self, log_key: Sequence[str]) -> Iterator[CapturedLogContext]:
        paths = [self.get_captured_local_path(log_key, IO_TYPE_EXTENSION[kind]) for kind in (ComputeIOType.STDOUT, ComputeIOType.STDERR)]
        for path in paths:
            ensure_file(path)
        with open(paths[0], "a", buffering=1, encoding="utf8") as out, open(paths[1], "a", buffering=1, encoding="utf8") as err:
            stdout, stderr = sys.stdout, sys.stderr
            sys.stdout, sys.stderr = _Tee(stdout, out), _Tee(stderr, err)
            try:
                yield CapturedLogContext(log_key)
            finally:
                sys.stdout, sys.stderr = stdout, stderr
        touch_file(self.complete_artifact_path(log_key))  # as Dagster's: the UI knows the capture ended
