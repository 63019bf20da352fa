"""Held price changes: a move of more than 10x, or from paid to free, waits for an operator.

A unit slip at a provider (per 1M read as per token, a dropped digit) looks exactly like such a
move, and billing on it costs real money. So the row keeps its old price, the change is kept in
`pending_price_changes` and reported, and `sync-models --accept-pending <slug>` applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, select, update

from catalog_pipeline.pipeline.records import PRICE_COLUMNS

from .bulk_write import one_of
from .changes import record_accepted
from .history import open_price_periods
from .row_text import HASHED_COLUMNS, content_hash
from .schema import models, pending_price_changes, providers

MAX_RATIO = Decimal(10)


@dataclass(frozen=True)
class HeldChange:
    provider_model_id: str
    column: str
    old: Decimal
    new: Decimal


def suspicious_changes(model_id: str, old: dict[str, Any], new: dict[str, Any]) -> list[HeldChange]:
    """The price columns of one model whose move must be held (unknown on either side never is)."""
    held = []
    for column in PRICE_COLUMNS:
        before, after = old.get(column), new.get(column)
        if before is None or after is None or before == after:
            continue
        before, after = Decimal(before), Decimal(after)
        paid_to_free = before > 0 and after == 0
        big_move = before > 0 and after > 0 and max(after / before, before / after) > MAX_RATIO
        if paid_to_free or big_move:
            held.append(HeldChange(model_id, column, before, after))
    return held


def replace_pending(conn: Connection, provider_id: int, held: list[HeldChange], now: datetime, run_id: str | None) -> None:
    """Make the provider's pending set exactly `held` (a price that came back is no longer pending)."""
    current = {
        (row.provider_model_id, row.column_name): row
        for row in conn.execute(select(pending_price_changes).where(pending_price_changes.c.provider_id == provider_id))
    }
    wanted = {(h.provider_model_id, h.column): h for h in held}
    for key, row in current.items():
        if key not in wanted:
            conn.execute(delete(pending_price_changes).where(pending_price_changes.c.id == row.id))
        elif row.new_value != wanted[key].new:
            conn.execute(
                update(pending_price_changes)
                .where(pending_price_changes.c.id == row.id)
                .values(new_value=wanted[key].new, last_detected_at=now, run_id=run_id)
            )
    fresh = [h for key, h in wanted.items() if key not in current]
    if fresh:
        conn.execute(
            insert(pending_price_changes),
            [
                {
                    "provider_id": provider_id, "provider_model_id": h.provider_model_id, "column_name": h.column,
                    "old_value": h.old, "new_value": h.new, "first_detected_at": now, "last_detected_at": now,
                    "run_id": run_id,
                }
                for h in fresh
            ],
        )


def pending_changes(engine: Engine, slug: str | None = None) -> list[dict[str, Any]]:
    query = (
        select(providers.c.slug.label("provider"), pending_price_changes)
        .join(providers, providers.c.id == pending_price_changes.c.provider_id)
        .order_by(providers.c.slug, pending_price_changes.c.provider_model_id, pending_price_changes.c.column_name)
    )
    if slug is not None:
        query = query.where(providers.c.slug == slug)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def accept_pending(engine: Engine, slug: str) -> list[HeldChange]:
    """Apply every held change of one provider to its rows, in one transaction."""
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        query = select(providers.c.id).where(providers.c.slug == slug)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        provider_id = conn.execute(query).scalar()
        if provider_id is None:
            return []
        rows = conn.execute(select(pending_price_changes).where(pending_price_changes.c.provider_id == provider_id)).all()
        for row in rows:
            conn.execute(
                update(models)
                .where(and_(models.c.provider_id == provider_id, models.c.provider_model_id == row.provider_model_id))
                # No longer what the last list fingerprinted (that list had the held price): unknown.
                .values({row.column_name: row.new_value, "list_fingerprint": None, "updated_at": now})
            )
        _rehash(conn, provider_id, {row.provider_model_id for row in rows})
        conn.execute(delete(pending_price_changes).where(pending_price_changes.c.provider_id == provider_id))
        accepted = [HeldChange(r.provider_model_id, r.column_name, r.old_value, r.new_value) for r in rows]
        open_price_periods(conn, provider_id, sorted({c.provider_model_id for c in accepted}), now, None)
        record_accepted(conn, provider_id, accepted, now)
    return accepted


def _rehash(conn: Connection, provider_id: int, model_ids: set[str]) -> None:
    """The content hash of rows whose prices were just set: what reads it to see a row changed
    (the refresh of links and exports) must see them changed now, not after the next sync."""
    hashed = select(models.c.id, *(models.c[c] for c in HASHED_COLUMNS)).where(
        models.c.provider_id == provider_id, one_of(conn, models.c.provider_model_id, sorted(model_ids))
    )
    for row in conn.execute(hashed).mappings().all():
        conn.execute(update(models).where(models.c.id == row["id"]).values(content_hash=content_hash(dict(row))))
