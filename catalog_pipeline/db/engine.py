"""Engines for the catalog database: a SQLite file by default, PostgreSQL in production."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from catalog_pipeline.settings import DATABASE_URL_ENV_VAR, load_settings


DEFAULT_DATA_DIR = Path("~/.model-catalog-sync")  # expanded when used, not at import


class CatalogConfigError(Exception):
    """The catalog database is misconfigured; the message names the setting."""


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long a sync waits on the catalog database before failing its provider."""

    connect_seconds: float = 10.0
    statement_seconds: float = 120.0  # PostgreSQL statement_timeout
    lock_seconds: float = 30.0  # PostgreSQL lock_timeout: a row another load holds
    # A server that answers nothing (frozen, or a link TCP has not noticed is dead) cannot apply
    # its own statement_timeout, so the client gives up on any single wait after this long.
    no_answer_seconds: float = 150.0
    keepalive_idle_seconds: int = 30
    keepalive_interval_seconds: int = 10
    keepalive_count: int = 3
    sqlite_busy_seconds: float = 60.0  # SQLite: waiting for another writer's lock


def default_database_url() -> str:
    return f"sqlite:///{DEFAULT_DATA_DIR.expanduser() / 'catalog.db'}"


def resolve_database_url(url: str | None = None) -> str:
    return url or load_settings().database_url or default_database_url()


def describe_database_url(url: str | None = None) -> str:
    """The resolved URL with its password hidden, for messages."""
    return make_url(resolve_database_url(url)).render_as_string(hide_password=True)


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever SQLAlchemy's default driver is."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise CatalogConfigError(f"{DATABASE_URL_ENV_VAR} is not a valid database URL: {exc}") from None
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.get_backend_name() not in ("postgresql", "sqlite"):
        raise CatalogConfigError(
            f"{DATABASE_URL_ENV_VAR}: unsupported database {parsed.get_backend_name()!r};"
            " use sqlite:///path or postgresql://user@host/db"
        )
    return parsed.render_as_string(hide_password=False)


_engines: dict[tuple[str, DatabaseTimeouts], Engine] = {}
_upgraded: set[str] = set()
_lock = threading.Lock()


def catalog_engine(url: str | None = None, timeouts: DatabaseTimeouts = DatabaseTimeouts(), *, upgrade: bool = True) -> Engine:
    """One engine per URL and timeouts per process, the catalog upgraded to the newest schema on
    first use (`upgrade=False` only for `catalog db current|check`, which must see the catalog as it is)."""
    resolved = normalize_database_url(resolve_database_url(url))
    with _lock:
        engine = _engines.get((resolved, timeouts))
        if engine is None:
            engine = _create(resolved, timeouts)
            _engines[(resolved, timeouts)] = engine
        if upgrade and resolved not in _upgraded:
            # Alembic is imported only now: sync-models reads the archive before (upgrade=False).
            from .migrate import upgrade_catalog

            upgrade_catalog(engine)
            _upgraded.add(resolved)
    return engine


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _upgraded.clear()


def _create(url: str, timeouts: DatabaseTimeouts) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": timeouts.sqlite_busy_seconds})
        _use_immediate_transactions(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, connect_args=_postgres_connect_args(parsed.query, timeouts))

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        try:
            connection = _AnsweringConnection.connect(*cargs, **cparams)
        except psycopg.errors.ConnectionTimeout:
            where = f"{cparams.get('host', 'localhost')}:{cparams.get('port', 5432)}"
            raise psycopg.OperationalError(
                f"the catalog database at {where} did not accept a connection within"
                f" {cparams['connect_timeout']}s (connect_timeout_seconds)"
            ) from None
        connection.no_answer_seconds = timeouts.no_answer_seconds
        return connection

    return engine


def _postgres_connect_args(query: Any, timeouts: DatabaseTimeouts) -> dict[str, Any]:
    server_limits = (
        f"-c statement_timeout={round(timeouts.statement_seconds * 1000)}"
        f" -c lock_timeout={round(timeouts.lock_seconds * 1000)}"
    )
    given = query.get("options")  # the URL's own ?options=... are kept, ours appended
    return {
        "connect_timeout": max(1, math.ceil(timeouts.connect_seconds)),  # libpq: whole seconds
        "keepalives": 1,
        "keepalives_idle": timeouts.keepalive_idle_seconds,
        "keepalives_interval": timeouts.keepalive_interval_seconds,
        "keepalives_count": timeouts.keepalive_count,
        "options": f"{given} {server_limits}" if given else server_limits,
    }


class _AnsweringConnection(psycopg.Connection):
    """A psycopg connection that stops waiting on a server which answers nothing.

    Every round trip (statements, COPY, commit, rollback) goes through `wait`. A server that is
    stopped still has its TCP connections acknowledged by the kernel, so neither keepalives nor
    statement_timeout end the wait; this limit does, and closes the connection: the pool then
    discards it, and the server rolls its transaction back once it sees the close.
    """

    no_answer_seconds: float | None = None

    def wait(self, gen, *args, timeout=None, **kwargs):  # type: ignore[override]
        limit = self.no_answer_seconds if timeout is None else timeout
        try:
            return super().wait(gen, *args, timeout=limit, **kwargs)
        except psycopg.errors._WaitTimeout:  # psycopg's own, documented as for callers to convert
            if timeout is not None:
                raise
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"the catalog database sent no answer within {limit:g}s (no_answer_timeout_seconds);"
                " the connection was closed"
            ) from None


def _use_immediate_transactions(engine: Engine) -> None:
    """SQLite: take the write lock when a transaction begins, so two loads serialize."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below be the only one
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
