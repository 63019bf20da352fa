"""Price history: one `model_price_history` row per period in which a model's prices held.

Written by the load (and by accepting held prices) in the same transaction as the price itself,
so a period opens exactly when the catalog's price changes: an unchanged sync, a held change and
a dry run add none.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

from psycopg import sql
from sqlalchemy import Connection, Engine, and_, insert, literal, or_, select, update

from catalog_pipeline.pipeline.records import PRICE_COLUMNS

from .bulk_write import batches, one_of, planned_without
from .schema import model_price_history, models, providers

def open_price_periods(
    conn: Connection, provider_id: int, provider_model_ids: Iterable[str], now: datetime, run_id: str | None
) -> int:
    """Close the open period of each model and open one holding its prices as now stored."""
    ids = list(provider_model_ids)
    for chunk in batches(conn, ids):
        these = (models.c.provider_id == provider_id, one_of(conn, models.c.provider_model_id, chunk))
        conn.execute(
            update(model_price_history)
            .where(model_price_history.c.valid_to.is_(None), model_price_history.c.model_id.in_(select(models.c.id).where(*these)))
            .values(valid_to=now)
        )
        conn.execute(_insert_current(now, run_id, *these))
    return len(ids)


def open_first_periods(conn: Connection, provider_id: int, now: datetime, run_id: str | None) -> None:
    """A provider's first load: one period for each of its models, all of them just inserted."""
    conn.execute(_insert_current(now, run_id, models.c.provider_id == provider_id))


def open_new_periods(conn: Connection, provider_id: int, provider_model_ids: list[str], now: datetime, run_id: str | None) -> None:
    """Models just added: they have no period to close."""
    for chunk in batches(conn, provider_model_ids):
        conn.execute(_insert_current(now, run_id, models.c.provider_id == provider_id, one_of(conn, models.c.provider_model_id, chunk)))


def reopen_periods(conn: Connection, model_ids: list[int], now: datetime, run_id: str | None) -> None:
    """Models (by `models.id`) whose prices the load has just changed: close the open period, open
    one with the prices now stored. By id, so the plan stays linear even while the planner's
    statistics still describe the table before a first load. A load on PostgreSQL sends
    `reopened_periods_text` in its update's round trip instead."""
    for chunk in batches(conn, model_ids):
        conn.execute(
            update(model_price_history)
            .where(model_price_history.c.valid_to.is_(None), one_of(conn, model_price_history.c.model_id, chunk))
            .values(valid_to=now)
        )
        conn.execute(_insert_current(now, run_id, one_of(conn, models.c.id, chunk)))


def reopened_periods_text(conn: Connection, model_ids: list[int], now: datetime, run_id: str | None) -> str:
    """PostgreSQL: `reopen_periods` as statements without parameters (literals of the load's own
    values), which a caller may send in the round trip of its own (`bulk_write.update_models`)."""
    ids = "'{" + ",".join(map(str, model_ids)) + "}'::bigint[]"
    when = f"'{now.isoformat()}'::timestamptz"
    run = sql.Literal(run_id).as_string(conn.connection.dbapi_connection)
    prices = ", ".join(PRICE_COLUMNS)
    # One statement (the new periods are not among those it closes), through the history's index,
    # not a scan of every period: the planner's choice while its statistics lag behind a first
    # load, and one that grows with the whole history.
    return planned_without(
        f"WITH closed AS (UPDATE model_price_history SET valid_to = {when} WHERE valid_to IS NULL AND model_id = ANY({ids}))"
        f" INSERT INTO model_price_history (model_id, valid_from, {prices}, run_id)"
        f" SELECT id, {when}, {prices}, {run} FROM models WHERE id = ANY({ids})",
        "seqscan",
    )


def _insert_current(now: datetime, run_id: str | None, *where):
    current = select(
        models.c.id,
        literal(now, model_price_history.c.valid_from.type),
        *(models.c[c] for c in PRICE_COLUMNS),
        literal(run_id, model_price_history.c.run_id.type),
    ).where(*where)
    return insert(model_price_history).from_select(["model_id", "valid_from", *PRICE_COLUMNS, "run_id"], current)


def price_periods(engine: Engine, provider_slug: str, provider_model_id: str) -> list[dict[str, Any]]:
    """Every period of one model, oldest first (empty when the catalog does not have the model)."""
    with engine.connect() as conn:
        rows = conn.execute(_periods(provider_slug, provider_model_id).order_by(model_price_history.c.valid_from)).mappings()
        return [_period(row) for row in rows]


def price_at(engine: Engine, provider_slug: str, provider_model_id: str, when: datetime) -> dict[str, Any] | None:
    """The period holding at `when` (a timezone-aware time), or None before the first one."""
    if when.tzinfo is None:
        raise ValueError("price_at needs a timezone-aware time (e.g. 2026-11-01T00:00Z)")
    # Stored in UTC; SQLite compares the text, so the parameter must be UTC as well.
    when = when.astimezone(timezone.utc)
    query = _periods(provider_slug, provider_model_id).where(
        model_price_history.c.valid_from <= when,
        or_(model_price_history.c.valid_to.is_(None), model_price_history.c.valid_to > when),
    )
    with engine.connect() as conn:
        row = conn.execute(query.order_by(model_price_history.c.valid_from.desc())).mappings().first()
        return _period(row) if row else None


def _periods(provider_slug: str, provider_model_id: str):
    return (
        select(model_price_history)
        .join(models, models.c.id == model_price_history.c.model_id)
        .join(providers, providers.c.id == models.c.provider_id)
        .where(and_(providers.c.slug == provider_slug, models.c.provider_model_id == provider_model_id))
    )


def _period(row) -> dict[str, Any]:
    return {
        "valid_from": _utc(row["valid_from"]),
        "valid_to": _utc(row["valid_to"]),
        **{column: row[column] for column in PRICE_COLUMNS},
        "run_id": row["run_id"],
    }


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
