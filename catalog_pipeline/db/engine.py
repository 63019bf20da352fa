"""Engines for the catalog database: a SQLite file by default, PostgreSQL in production."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .migrate import upgrade_catalog

DATABASE_URL_ENV_VAR = "CATALOG_DATABASE_URL"
DEFAULT_DATA_DIR = Path("~/.model-catalog-sync").expanduser()


class CatalogConfigError(Exception):
    """The catalog database is misconfigured; the message names the setting."""


def default_database_url() -> str:
    return f"sqlite:///{DEFAULT_DATA_DIR / 'catalog.db'}"


def resolve_database_url(url: str | None = None) -> str:
    return url or os.environ.get(DATABASE_URL_ENV_VAR) or default_database_url()


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


_engines: dict[str, Engine] = {}
_upgraded: set[str] = set()
_lock = threading.Lock()


def catalog_engine(url: str | None = None, *, upgrade: bool = True) -> Engine:
    """One engine per URL per process, the catalog upgraded to the newest schema on first use
    (`upgrade=False` only for `catalog db current|check`, which must see the catalog as it is)."""
    resolved = normalize_database_url(resolve_database_url(url))
    with _lock:
        engine = _engines.get(resolved)
        if engine is None:
            engine = _create(resolved)
            _engines[resolved] = engine
        if upgrade and resolved not in _upgraded:
            upgrade_catalog(engine)
            _upgraded.add(resolved)
    return engine


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _upgraded.clear()


def _create(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})
        _use_immediate_transactions(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


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
