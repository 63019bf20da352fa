"""The change feed: one `catalog_changes` row per thing a sync (or an operator) changed.

Kinds: `added`, `delisted`, `relisted`, `changed` (one row per field, old and new value as JSON),
`price_held` (a move waiting for an operator) and `price_accepted`. Rows are written in the
load's transaction, so the feed and the catalog never disagree.

Readers page by `id`. For that to be safe, ids must become visible in the order they were
assigned: on PostgreSQL each writer takes a transaction-scoped advisory lock before inserting,
held until it commits (SQLite's `BEGIN IMMEDIATE` already admits one writer at a time).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import Connection, Engine, func, insert, literal, select

from catalog_pipeline.pipeline.money import to_fixed_point

from .bulk_write import copy_text
from .row_text import copy_rows, escaped, scalar_text
from .schema import catalog_changes, models, pending_price_changes, providers

KINDS = ("added", "delisted", "relisted", "changed", "price_held", "price_accepted")
_WRITER_LOCK_KEY = 0x63_68_61_6E_67_65_73  # "changes"; any number unlike the other advisory locks
_CHUNK = 5000
_COPIED = ("provider_model_id", "kind", "field", "old_value", "new_value")  # old/new: JSON


def record_load_changes(
    conn: Connection, provider_id: int, diff: Any, now: datetime, run_id: str | None, first_load: bool = False,
    spelled: "SpelledChanges | None" = None,
) -> dict[str, int]:
    """Write the changes of one load (a `load.CatalogDiff`); returns their count by kind.
    Call before the load replaces the pending price changes: a hold already pending with the
    same new price is not a new change. On a `first_load` every row of the provider was just
    inserted: their `added` rows are copied from `models` by the database itself. `spelled`: the
    rest, spelled beforehand by `spell_load_changes` (PostgreSQL, not a first load)."""
    already_held = {
        (row.provider_model_id, row.column_name, row.new_value)
        for row in conn.execute(select(pending_price_changes).where(pending_price_changes.c.provider_id == provider_id))
    }
    held = [
        _row("price_held", held.provider_model_id, held.column, to_fixed_point(held.old), to_fixed_point(held.new))
        for held in diff.held
        if (held.provider_model_id, held.column, held.new) not in already_held
    ]
    if spelled is not None:
        return _copy_spelled(conn, [spelled, spell_changes(provider_id, held, now, run_id)])
    rows = _listed_rows(diff) + held
    if first_load and diff.added:
        _lock_writers(conn)
        if conn.dialect.name == "postgresql":  # sorting 100k ids in memory, not in a temporary file
            conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        conn.execute(
            insert(catalog_changes).from_select(
                ["provider_model_id", "kind", "provider_id", "run_id", "changed_at"],
                select(
                    models.c.provider_model_id, literal("added", catalog_changes.c.kind.type), models.c.provider_id,
                    literal(run_id, catalog_changes.c.run_id.type), literal(now, catalog_changes.c.changed_at.type),
                ).where(models.c.provider_id == provider_id).order_by(models.c.id),
            )
        )
        return {"added": len(diff.added), **write_changes(conn, provider_id, rows, now, run_id)}
    return write_changes(conn, provider_id, rows, now, run_id, added=diff.added)


def spell_load_changes(provider_id: int, diff: Any, now: datetime, run_id: str | None) -> "SpelledChanges":
    """The `COPY` text of a load's changes but its held prices (which depend on the pending ones):
    spelled while the server is still writing the load's rows. Not for a first load."""
    return spell_changes(provider_id, _listed_rows(diff), now, run_id, added=diff.added)


def _listed_rows(diff: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [_row("relisted", model_id) for model_id in diff.reactivated]
    rows += [_row("delisted", model_id) for model_id in diff.deactivated]
    for model_id, fields in diff.updated.items():
        for field, (old, new) in fields.items():
            if field != "is_active":
                rows.append(_row("changed", model_id, field, old, new))
            elif new is False:  # listed, but marked inactive by the provider
                rows.append(_row("delisted", model_id))
    return rows


def record_accepted(conn: Connection, provider_id: int, accepted: Iterable[Any], now: datetime) -> dict[str, int]:
    """Held price changes (`price_holds.HeldChange`) an operator has just applied."""
    rows = [_row("price_accepted", c.provider_model_id, c.column, to_fixed_point(c.old), to_fixed_point(c.new)) for c in accepted]
    return write_changes(conn, provider_id, rows, now, None)


def write_changes(
    conn: Connection, provider_id: int, rows: list[dict[str, Any]], now: datetime, run_id: str | None,
    added: list[str] = (),
) -> dict[str, int]:
    """Write `rows`, after one `added` row per id in `added` (a first load adds one per model)."""
    if conn.dialect.name == "postgresql":
        return _copy_spelled(conn, [spell_changes(provider_id, rows, now, run_id, added)])
    counts = _counts(rows, added)
    stamped = [
        {**row, "provider_id": provider_id, "run_id": run_id, "changed_at": now}
        for row in [*(_row("added", model_id) for model_id in added), *rows]
    ]
    for start in range(0, len(stamped), _CHUNK):
        conn.execute(insert(catalog_changes), stamped[start : start + _CHUNK])
    return dict(counts)


@dataclass
class SpelledChanges:
    """Change rows as `COPY` text for `catalog_changes`, and their count by kind."""

    text: bytes
    counts: Counter


def spell_changes(provider_id: int, rows: list[dict[str, Any]], now: datetime, run_id: str | None, added: list[str] = ()) -> SpelledChanges:
    """`rows` after one `added` row per id in `added`, spelled for `COPY`."""
    stamp = "\t".join([str(provider_id), scalar_text(run_id), now.isoformat()])
    text = "".join(f"{escaped(model_id)}\tadded\t\\N\t\\N\t\\N\t{stamp}\n" for model_id in added).encode()
    text += copy_rows(([row[c] for c in _COPIED] for row in rows), (3, 4), stamp)
    return SpelledChanges(text=text, counts=_counts(rows, added))


def _copy_spelled(conn: Connection, parts: list[SpelledChanges]) -> dict[str, int]:
    counts = sum((part.counts for part in parts), Counter())
    if not counts:
        return {}
    _lock_writers(conn)
    copy_text(conn, "catalog_changes", [*_COPIED, "provider_id", "run_id", "changed_at"], b"".join(part.text for part in parts))
    return dict(counts)


def _counts(rows: list[dict[str, Any]], added: list[str]) -> Counter:
    counts = Counter(row["kind"] for row in rows)
    return Counter(added=len(added)) + counts if added else counts


def _lock_writers(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_WRITER_LOCK_KEY)))


def _row(kind: str, model_id: str, field: str | None = None, old: Any = None, new: Any = None) -> dict[str, Any]:
    return {"provider_model_id": model_id, "kind": kind, "field": field, "old_value": old, "new_value": new}


def read_changes(
    engine: Engine,
    *,
    since: datetime | None = None,
    provider: str | None = None,
    kind: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
    after_id: int | None = None,
) -> list[dict[str, Any]]:
    """Changes newest first, or oldest first when paging forward with `after_id` (the notifier)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown change kind {kind!r}; one of: {', '.join(KINDS)}")
    query = select(catalog_changes, providers.c.slug.label("provider")).join(providers, providers.c.id == catalog_changes.c.provider_id)
    if since is not None:
        if since.tzinfo is None:
            raise ValueError("since needs a timezone-aware time")
        query = query.where(catalog_changes.c.changed_at >= since.astimezone(timezone.utc))
    if provider is not None:
        query = query.where(providers.c.slug == provider)
    if kind is not None:
        query = query.where(catalog_changes.c.kind == kind)
    if before_id is not None:
        query = query.where(catalog_changes.c.id < before_id)
    if after_id is not None:
        query = query.where(catalog_changes.c.id > after_id).order_by(catalog_changes.c.id)
    else:
        query = query.order_by(catalog_changes.c.id.desc())
    with engine.connect() as conn:
        return [_shown(row) for row in conn.execute(query.limit(limit)).mappings()]


def _shown(row) -> dict[str, Any]:
    changed_at = row["changed_at"]
    if changed_at.tzinfo is None:
        changed_at = changed_at.replace(tzinfo=timezone.utc)
    return {
        "id": row["id"],
        "provider": row["provider"],
        "provider_model_id": row["provider_model_id"],
        "kind": row["kind"],
        "field": row["field"],
        "old_value": row["old_value"],
        "new_value": row["new_value"],
        "run_id": row["run_id"],
        "changed_at": changed_at.astimezone(timezone.utc).isoformat(),
    }
