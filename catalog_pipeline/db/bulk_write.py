"""Writing many model rows: PostgreSQL `COPY` of text built column by column, executemany elsewhere."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from sqlalchemy import BigInteger, Connection, Integer, String, Text, any_, bindparam, cast, insert, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import NullType

from catalog_pipeline.pipeline.records import MODEL_COLUMNS

from .row_text import JSON_COLUMNS, NULL, copy_columns, copy_lines, copy_rows, scalar_text
from .schema import models

if TYPE_CHECKING:
    from .load import _Listed

_CHUNK = 5000
_COPY_CHUNK = 10000  # rows per COPY write: small enough to overlap, large enough to batch
_TIMESTAMPS = ("first_seen_at", "last_seen_at", "created_at", "updated_at")


def insert_models(conn: Connection, listed: "_Listed", positions: list[int], provider_id: int, now: datetime) -> None:
    """Insert the listed rows at `positions` as new models, first seen `now` (on PostgreSQL, the
    time of `conn`'s transaction: there the four times are left to their default, `now()`,
    revision 0010, which the server need not parse from every row)."""
    if not positions:
        return
    if conn.dialect.name == "postgresql":
        columns = [*MODEL_COLUMNS, "content_hash", "list_fingerprint", "deactivated_at", "price_observed_at"]
        constants = str(provider_id)
        deactivated = [NULL if active else now.isoformat() for active in listed.is_active]
        if listed.texts:
            chunks = iter([copy_lines({**listed.texts, "deactivated_at": deactivated}, columns, positions, suffix=constants)])
        else:  # a first load, every row: each slice is sent once spelled, the server parses it meanwhile
            chunks = (
                copy_lines(
                    {**listed.spell(start, start + _COPY_CHUNK), "deactivated_at": deactivated[start : start + _COPY_CHUNK]},
                    columns, suffix=constants,
                )
                for start in range(0, len(positions), _COPY_CHUNK)
            )
        copy_text(conn, "models", [*columns, "provider_id"], chunks)
        return
    rows = [
        {**row, "provider_id": provider_id, "deactivated_at": None if row["is_active"] else now, **dict.fromkeys(_TIMESTAMPS, now)}
        for row in listed.rows(positions)
    ]
    for start in range(0, len(rows), _CHUNK):
        conn.execute(insert(models), rows[start : start + _CHUNK])


def update_models(
    conn: Connection, rows: list[dict[str, Any]], columns: Sequence[str], now: datetime | None,
    texts: dict[str, list[str]] | None = None, then: str = "",
) -> None:
    """Set `columns` of each row (matched on `id`), and updated_at / last_seen_at = `now` unless None.
    A row with a `position` takes the COPY text of the columns it does not give from `texts` (the
    listed frame's) there. `then` (PostgreSQL): statements without parameters sent in the same
    round trip as the update, after it."""
    if not rows:
        if then:
            conn.exec_driver_sql(then)
        return
    touched = {} if now is None else {"updated_at": now, "last_seen_at": now}
    if conn.dialect.name == "postgresql":
        # Stage the new values with COPY, then one UPDATE .. FROM: no statement per row. The
        # statements around the COPY go in two round trips (no parameters: the time is a literal
        # of our own), each of which may wait for the interpreter while the load's Python runs.
        selected = ", ".join(["id", *columns])
        # Keyed, so the join is linear whatever the planner believes about `models` (statistics
        # lag behind a first load).
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE model_updates ON COMMIT DROP AS SELECT {selected} FROM models WITH NO DATA;"
            " ALTER TABLE model_updates ADD PRIMARY KEY (id)"
        )
        copy_text(conn, "model_updates", ["id", *columns], _staged_text(rows, columns, texts or {}))
        assignments = ", ".join([*(f"{c} = u.{c}" for c in columns), *(f"{c} = '{now.isoformat()}'::timestamptz" for c in touched)])
        # A slice of updates is not worth a scan of every model: joined through the key (`joined_by_index`).
        conn.exec_driver_sql(
            planned_without(f"UPDATE models AS m SET {assignments} FROM model_updates AS u WHERE m.id = u.id", *_JOINS_BY_INDEX_ONLY)
            + f"; DROP TABLE model_updates{'; ' + then if then else ''}"
        )
        return
    statement = (
        update(models)
        .where(models.c.id == bindparam("b_id"))
        .values({c: bindparam(f"b_{c}") for c in columns} | touched)
    )
    params = [{f"b_{k}": row[k] for k in ("id", *columns)} for row in rows]
    for start in range(0, len(params), _CHUNK):
        conn.execute(statement, params[start : start + _CHUNK])


@contextmanager
def planner_without(conn: Connection, *methods: str) -> Iterator[None]:
    """PostgreSQL: the statements run within are planned without these methods (`hashjoin`,
    `bitmapscan`, ...); elsewhere they run as planned. Left as it was after a failure: the
    transaction is then rolled back, and the settings with it."""
    postgresql = conn.dialect.name == "postgresql"
    for method in methods if postgresql else ():
        conn.exec_driver_sql(f"SET LOCAL enable_{method} = off")
    yield
    for method in methods if postgresql else ():
        conn.exec_driver_sql(f"RESET enable_{method}")


def planned_without(statements: str, *methods: str) -> str:
    """PostgreSQL: `planner_without` as text around `statements` (which take no parameters), to be
    sent with them in one round trip."""
    return "; ".join([*(f"SET LOCAL enable_{method} = off" for method in methods), statements, *(f"RESET enable_{method}" for method in methods)])


@contextmanager
def scanned_in_parallel(conn: Connection) -> Iterator[None]:
    """PostgreSQL: a scan within may be shared with parallel workers however many rows the planner
    expects it to return (it prices each row a worker hands back, `parallel_tuple_cost`);
    elsewhere nothing changes. Left as it was after a failure, as `planner_without`."""
    postgresql = conn.dialect.name == "postgresql"
    if postgresql:
        conn.exec_driver_sql("SET LOCAL parallel_tuple_cost = 0")
    yield
    if postgresql:
        conn.exec_driver_sql("RESET parallel_tuple_cost")


_JOINS_BY_INDEX_ONLY = ("hashjoin", "mergejoin")


def joined_by_index(conn: Connection):
    """PostgreSQL: the statements run within join row by row through an index, never by hashing
    (or sorting) a whole table: the planner's choice for a few thousand rows of a large table, and
    whenever its statistics lag behind a first load."""
    return planner_without(conn, *_JOINS_BY_INDEX_ONLY)


def batches(conn: Connection, values: list[Any]) -> Iterator[list[Any]]:
    """`values` in the batches a statement with `one_of` takes them: all at once on PostgreSQL (one
    array parameter; each further statement costs a round trip and a scan), 5,000 at a time on
    SQLite (its limit on parameters)."""
    size = len(values) if conn.dialect.name == "postgresql" else _CHUNK
    for start in range(0, len(values), max(size, 1)):
        yield values[start : start + size]


def one_of(conn: Connection, column, values: list[Any]):
    """`column IN values`; on PostgreSQL one array parameter (`= ANY(...)`) instead of one per value,
    sent as the array's text: psycopg's own array dumper spends about 2 µs a value in Python."""
    if conn.dialect.name != "postgresql":
        return column.in_(values)
    # Untyped, so that the server takes the parameter as the array itself (a plan's constant), not
    # as text to convert while the statement runs.
    if isinstance(column.type, Integer) and all(type(value) is int for value in values):
        return column == any_(cast(bindparam(None, "{" + ",".join(map(str, values)) + "}", type_=NullType()), ARRAY(BigInteger())))
    if isinstance(column.type, String) and all(type(value) is str for value in values):
        return column == any_(cast(bindparam(None, _text_array(values), type_=NullType()), ARRAY(Text())))
    return column == any_(bindparam(None, value=list(values), type_=ARRAY(column.type)))


_ARRAY_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})


def _text_array(values: list[str]) -> str:
    """PostgreSQL's text form of a text array: each element quoted, a backslash or quote escaped."""
    return "{" + ",".join(['"' + value.translate(_ARRAY_ESCAPES) + '"' for value in values]) + "}"


def stage_rows(conn: Connection, table: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL: a temporary table `table` of (name, type) `columns`, keyed on the first, dropped
    at commit, holding `rows` sent as COPY text: the other side of one set-based statement, with
    no parameter per value."""
    names = [name for name, _ in columns]
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE {table} ({', '.join(f'{name} {kind}' for name, kind in columns)}, PRIMARY KEY ({names[0]}))"
        " ON COMMIT DROP"
    )
    copy_text(conn, table, names, copy_columns(list(zip(*rows)) or [[] for _ in names]))


def copy_text(conn: Connection, table: str, columns: Sequence[str], text: bytes | Iterator[bytes]) -> None:
    """`COPY table (columns) FROM STDIN` of ready text, or of text chunks in turn (the server
    parses one while the next is built), in `conn`'s transaction."""
    driver_connection = conn.connection.dbapi_connection
    with driver_connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for chunk in [text] if isinstance(text, bytes) else text:
            copy.write(chunk)



def _staged_text(rows: list[dict[str, Any]], columns: Sequence[str], texts: dict[str, list[str]]) -> bytes:
    spelled = [row for row in rows if "position" not in row]
    json_positions = [i + 1 for i, c in enumerate(columns) if c in JSON_COLUMNS]
    text = copy_rows(([row["id"], *(row[c] for c in columns)] for row in spelled), json_positions)
    listed = [row for row in rows if "position" in row]
    lines = []
    for row in listed:
        position = row["position"]
        cells = [scalar_text(row[c]) if c in row else texts[c][position] for c in columns]
        lines.append(f"{row['id']}\t" + "\t".join(cells) + "\n")
    return text + "".join(lines).encode()
