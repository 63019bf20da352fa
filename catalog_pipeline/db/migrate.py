"""Bring a catalog to the newest schema revision (Alembic, `db/migrations/`) before it is used.

The catalog keeps its revision in its own table, `catalog_alembic_version`, so it never meets
Dagster's `alembic_version` when both live in one PostgreSQL database. A catalog made before
migrations existed has no version table: one whose tables already match revision 1 is stamped,
any other (empty, or from before `models.content_hash`) is brought up by revision 1 itself.

Upgrading runs in one transaction that first takes a lock (PostgreSQL: an advisory lock;
SQLite: `BEGIN IMMEDIATE`, the database's write lock), so processes starting together migrate
once: the second waits, then finds the catalog at head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, select, func

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "catalog_alembic_version"
BASELINE_REVISION = "0001"
# Any fixed 64-bit number; it only has to differ from other advisory locks taken in the database.
_ADVISORY_LOCK_KEY = 0x63_61_74_61_6C_6F_67  # "catalog"
# What revision 1 has that earlier catalogs lack: a catalog holding all of these is at revision 1.
_BASELINE_MARKERS = {
    "providers": set(),
    "models": {"content_hash"},
    "raw_model_lists": {"body_of_id"},
    "pending_price_changes": set(),
}


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return _context(conn).get_current_revision()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def upgrade_catalog(engine: Engine) -> str | None:
    """Upgrade to head; returns the revision found before (None: no version table), or head if
    there was nothing to do."""
    head = head_revision()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(_ADVISORY_LOCK_KEY)))
        found = _context(conn).get_current_revision()
        if found == head:
            return found
        config = alembic_config(conn)
        if found is None and _is_at_baseline(conn):
            command.stamp(config, BASELINE_REVISION)
        command.upgrade(config, "head")
    return found


def _context(conn: Connection) -> MigrationContext:
    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})


def _is_at_baseline(conn: Connection) -> bool:
    inspector = inspect(conn)
    tables = set(inspector.get_table_names())
    for table, columns in _BASELINE_MARKERS.items():
        if table not in tables:
            return False
        if not columns <= {column["name"] for column in inspector.get_columns(table)}:
            return False
    return True


def include_catalog_tables(name: str | None, type_: str, _parent_names: dict) -> bool:
    """Alembic's include_name: only the catalog's own tables; others in the database (Dagster's)
    are neither compared nor touched."""
    from .schema import metadata_obj

    return type_ != "table" or name in metadata_obj.tables


def schema_differences(engine: Engine) -> list:
    """What Alembic's autogenerate finds between the catalog and db/schema.py (empty: they agree)."""
    from alembic.autogenerate import compare_metadata

    from .schema import metadata_obj

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "version_table": VERSION_TABLE,
                "include_name": include_catalog_tables,
            },
        )
        return compare_metadata(context, metadata_obj)
