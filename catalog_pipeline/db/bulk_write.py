"""Writing many model rows: PostgreSQL `COPY` (about 100k rows a second), executemany elsewhere."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from psycopg.types.json import Jsonb
from sqlalchemy import Connection, bindparam, insert, update

from .schema import models

_CHUNK = 5000
_JSON_COLUMNS = frozenset({"input_modalities", "output_modalities", "metadata"})


def insert_models(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    if conn.dialect.name == "postgresql":
        _copy(conn, "models", columns, rows)
        return
    for start in range(0, len(rows), _CHUNK):
        conn.execute(insert(models), rows[start : start + _CHUNK])


def update_models(conn: Connection, rows: list[dict[str, Any]], columns: Sequence[str], now: datetime) -> None:
    """Set `columns` of each row (matched on `id`), plus updated_at / last_seen_at = now."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        # Stage the new values with COPY, then one UPDATE .. FROM: no statement per row.
        selected = ", ".join(["id", *columns])
        conn.exec_driver_sql(f"CREATE TEMP TABLE model_updates ON COMMIT DROP AS SELECT {selected} FROM models WITH NO DATA")
        _copy(conn, "model_updates", ["id", *columns], rows)
        assignments = ", ".join(f"{c} = u.{c}" for c in columns)
        conn.exec_driver_sql(
            f"UPDATE models AS m SET {assignments}, updated_at = %(now)s, last_seen_at = %(now)s"
            " FROM model_updates AS u WHERE m.id = u.id",
            {"now": now},
        )
        conn.exec_driver_sql("DROP TABLE model_updates")
        return
    statement = (
        update(models)
        .where(models.c.id == bindparam("b_id"))
        .values({c: bindparam(f"b_{c}") for c in columns} | {"updated_at": now, "last_seen_at": now})
    )
    params = [{f"b_{k}": v for k, v in row.items()} for row in rows]
    for start in range(0, len(params), _CHUNK):
        conn.execute(statement, params[start : start + _CHUNK])


def _copy(conn: Connection, table: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
    driver_connection = conn.connection.dbapi_connection  # same transaction as `conn`
    json_positions = [i for i, c in enumerate(columns) if c in _JSON_COLUMNS]
    with driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                values = [row[c] for c in columns]
                for i in json_positions:
                    if values[i] is not None:
                        values[i] = Jsonb(values[i])
                copy.write_row(values)
