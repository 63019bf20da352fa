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
    """What Alembic's autogenerate finds between the catalog and db/schema.py (empty: they agree).
    On PostgreSQL a foreign key marked CHECKED_PER_STATEMENT is not a constraint but triggers: it
    agrees when those triggers are there, with its arguments (else it is reported missing)."""
    from alembic.autogenerate import compare_metadata

    from .schema import metadata_obj

    with engine.connect() as conn:
        triggers = _reference_triggers(conn) if conn.dialect.name == "postgresql" else None
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "version_table": VERSION_TABLE,
                "include_name": include_catalog_tables,
            },
        )
        differences = compare_metadata(context, metadata_obj)
        differences += _index_kind_differences(conn, metadata_obj)  # autogenerate compares only columns
        if conn.dialect.name == "postgresql":  # autogenerate does not compare them
            differences += _storage_parameter_differences(conn, metadata_obj)
    if triggers is None:
        return differences
    return [d for d in differences if not (d[0] == "add_fk" and _checked_per_statement(d[1], triggers))]


def _index_kind_differences(conn: Connection, metadata_obj) -> list:
    """("index_kind", index, in schema.py, in the database) for each index whose access method
    (PostgreSQL: btree, brin, ...) or predicate (a partial index's WHERE) differs."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        found = {
            name: (method, _bare(predicate))
            for name, method, predicate in conn.exec_driver_sql(
                "SELECT c.relname, am.amname, pg_get_expr(i.indpred, i.indrelid) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
                " WHERE c.relnamespace = current_schema()::regnamespace"
            )
        }
    else:
        found = {
            name: ("btree", _bare(sql.split(" WHERE ", 1)[1]) if " WHERE " in sql else None)
            for name, sql in conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        }
    differences = []
    for table in metadata_obj.tables.values():
        for index in table.indexes:
            options = index.dialect_options[dialect] if dialect in ("postgresql", "sqlite") else {}
            predicate = options.get("where")
            wanted = (
                (options.get("using") if dialect == "postgresql" else None) or "btree",
                _bare(str(predicate.compile(dialect=conn.dialect)).replace(f"{table.name}.", "")) if predicate is not None else None,
            )
            if index.name in found and found[index.name] != wanted:
                differences.append(("index_kind", index.name, wanted, found[index.name]))
    return differences


def _bare(predicate: str | None) -> str | None:
    """A predicate's text without parentheses, spacing or case, as either side spells it."""
    return None if predicate is None else "".join(predicate.replace("(", "").replace(")", "").split()).lower()


def _storage_parameter_differences(conn: Connection, metadata_obj) -> list:
    """("storage_parameters", table, in schema.py, in the database) for each table whose storage
    parameters (`postgresql_with`: the fillfactor) differ."""
    stored = dict(conn.exec_driver_sql("SELECT relname, reloptions FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'").all())
    differences = []
    for table in metadata_obj.tables.values():
        wanted = {name: str(value) for name, value in (table.dialect_options["postgresql"]["with"] or {}).items()}
        found = dict(option.split("=", 1) for option in stored.get(table.name) or [])
        if wanted != found:
            differences.append(("storage_parameters", table.name, wanted, found))
    return differences


# (table, function, event, per row?, arguments) of each trigger enforcing a reference (revision 0005).
_TRIGGER_EVENTS = {4: "INSERT", 8: "DELETE", 16: "UPDATE", 32: "TRUNCATE"}


def _reference_triggers(conn: Connection) -> set[tuple]:
    rows = conn.exec_driver_sql(
        "SELECT t.tgrelid::regclass::text, p.proname, t.tgtype, t.tgargs FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
        " WHERE p.proname IN ('catalog_check_references', 'catalog_refuse_orphans') AND t.tgenabled <> 'D'"
    )
    found = set()
    for table, function, kind, arguments in rows:
        for bit, event in _TRIGGER_EVENTS.items():
            if kind & bit:
                found.add((table, function, event, bool(kind & 1), tuple(bytes(arguments).decode().split("\0")[:4])))
    return found


def _checked_per_statement(constraint, triggers: set[tuple]) -> bool:
    """A foreign key schema.py marks as checked per statement on PostgreSQL, and every trigger doing so is in place."""
    from .schema import CHECKED_PER_STATEMENT, metadata_obj

    # Autogenerate reports a copy of schema.py's constraint: the mark is on the original.
    (element,) = constraint.elements
    child, (column,) = constraint.table.name, constraint.column_keys
    declared = {fk.target_fullname: fk for fk in metadata_obj.tables[child].c[column].foreign_keys}
    if declared[element.target_fullname].info.get("postgresql") != CHECKED_PER_STATEMENT:
        return False
    parent, key = element.target_fullname.split(".")
    name = f"{child}_{column}_fkey"
    checked, guarded = (name, column, parent, key), (name, child, column, key)
    return {
        (child, "catalog_check_references", "INSERT", False, checked),
        (child, "catalog_check_references", "UPDATE", True, checked),
        (parent, "catalog_refuse_orphans", "DELETE", False, guarded),
        (parent, "catalog_refuse_orphans", "UPDATE", True, guarded),
        (parent, "catalog_refuse_orphans", "TRUNCATE", False, guarded),
    } <= triggers
