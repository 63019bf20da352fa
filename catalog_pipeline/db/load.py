"""Diff a provider's normalized frame against the catalog and apply it in one transaction.

Only rows whose content changed are written, so an unchanged re-sync writes nothing but the
provider's `last_synced_at`. A model the provider no longer lists is deactivated, never deleted;
one that comes back is reactivated. The provider row is locked first (PostgreSQL `FOR UPDATE`,
SQLite `BEGIN IMMEDIATE`), so two loads of one provider serialize and each diffs against the
other's committed result. Three guards protect the rows from a broken answer:

- shrink guard: a list with fewer than half of the provider's active models deactivates nothing;
- overlap guard: so does a list, however long, that still names fewer than half of them;
- price holds: a price moving more than 10x, or from paid to free, keeps its old value until an
  operator accepts it (`db/price_holds.py`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

import pandas as pd
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from catalog_pipeline.pipeline.money import to_fixed_point
from catalog_pipeline.pipeline.records import MODEL_COLUMNS, PRICE_COLUMNS, frame_to_rows
from catalog_pipeline.pipeline.spec import ProviderSpec

from .bulk_write import insert_models, update_models
from .changes import record_load_changes
from .history import open_price_periods
from .jsonable import jsonable
from .price_holds import HeldChange, replace_pending, suspicious_changes
from .schema import models, providers

CONTENT_COLUMNS = tuple(c for c in MODEL_COLUMNS if c != "provider_model_id")
_UPDATED_COLUMNS = (*CONTENT_COLUMNS, "content_hash", "deactivated_at", "price_observed_at")
# is_active is compared on its own: deactivating a row must not have to rewrite its hash.
_HASHED_COLUMNS = tuple(c for c in CONTENT_COLUMNS if c != "is_active")
_PRICE_SET = frozenset(PRICE_COLUMNS)
# price_observed_at moves only when one of these does, so an unchanged price keeps its first sighting.
_PRICE_PROVENANCE = frozenset({*PRICE_COLUMNS, "price_source"})
SHRINK_GUARD_RATIO = 0.5
_CHUNK = 5000


@dataclass
class CatalogDiff:
    added: list[str] = field(default_factory=list)
    updated: dict[str, dict[str, list[Any]]] = field(default_factory=dict)  # id -> field -> [old, new]
    reactivated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    unchanged: int = 0
    held: list[HeldChange] = field(default_factory=list)
    withheld_deactivations: list[str] = field(default_factory=list)  # what the shrink guard kept active

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "reactivated": len(self.reactivated),
            "deactivated": len(self.deactivated),
            "unchanged": self.unchanged,
            "held_price_changes": len(self.held),
        }


@dataclass
class LoadReport:
    provider_id: int | None
    diff: CatalogDiff
    dry_run: bool
    synced_at: datetime
    shrink_guard: str | None = None  # why deactivations were withheld, when they were
    changes: dict[str, int] = field(default_factory=dict)  # change-feed rows written, by kind


def load_provider_models(
    engine: Engine,
    spec: ProviderSpec,
    frame: pd.DataFrame,
    *,
    dry_run: bool = False,
    force: bool = False,
    run_id: str | None = None,
    pause_point: Callable[[Connection], None] | None = None,
) -> LoadReport:
    """Apply `frame` as the provider's complete current list; `force` lifts the shrink and overlap
    guards. `pause_point` is for crash tests: called inside the open transaction after the rows are
    inserted and updated and before the deactivation, so a test can kill the load there."""
    now = datetime.now(timezone.utc)
    incoming = {row["provider_model_id"]: _canonical(row) for row in frame_to_rows(frame)}
    observed = frame.attrs.get("price_observed_at") or {}
    for model_id, row in incoming.items():
        row["price_observed_at"] = observed.get(model_id, now) if any(row[c] is not None for c in PRICE_COLUMNS) else None
    with engine.connect() as conn, conn.begin() as transaction:
        provider_id, last_synced_at = _lock_provider(conn, spec, now)
        existing = _existing_models(conn, provider_id, incoming)
        diff, plan = _diff(existing, incoming, now)
        shrink = None if force else deactivation_guard_reason(spec.slug, existing, incoming)
        if shrink:
            diff.withheld_deactivations, diff.deactivated, plan.deactivate_ids = diff.deactivated, [], []
        report = LoadReport(provider_id=provider_id, diff=diff, dry_run=dry_run, synced_at=now, shrink_guard=shrink)
        if dry_run:
            transaction.rollback()
            return report
        _apply(conn, provider_id, plan, now, last_synced_at, pause_point)
        open_price_periods(conn, provider_id, _new_prices(diff), now, run_id)
        report.changes = record_load_changes(conn, provider_id, diff, now, run_id)
        replace_pending(conn, provider_id, diff.held, now, run_id)
        if not shrink:  # a list the guard distrusted is not a successful sync
            conn.execute(update(providers).where(providers.c.id == provider_id).values(last_synced_at=now))
    return report


def deactivation_guard_reason(
    slug: str, existing: dict[str, dict[str, Any]], incoming: dict[str, dict[str, Any]]
) -> str | None:
    """Why this list must deactivate nothing (reported by the `shrink_guard` check), or None."""
    return shrink_guard_reason(slug, existing, incoming) or overlap_guard_reason(slug, existing, incoming)


def overlap_guard_reason(slug: str, existing: dict[str, dict[str, Any]], incoming: dict[str, dict[str, Any]]) -> str | None:
    """A list of unknown ids (another provider's, or a placeholder answer) passes the shrink guard
    by its length alone; what counts is how many of the active models it still names."""
    active_before = [model_id for model_id, row in existing.items() if row["is_active"]]
    still_listed = sum(1 for model_id in active_before if model_id in incoming)
    if not active_before or still_listed >= len(active_before) * SHRINK_GUARD_RATIO:
        return None
    return (
        f"overlap guard: {slug} listed {len(incoming)} models, but only {still_listed} of the {len(active_before)}"
        f" active in the catalog are among them (less than {SHRINK_GUARD_RATIO:.0%}), so nothing was deactivated."
        " If the provider really replaced its list, re-run with --force (sync-models) or force: true (run config)."
    )


def shrink_guard_reason(slug: str, existing: dict[str, dict[str, Any]], incoming: dict[str, dict[str, Any]]) -> str | None:
    active_before = sum(1 for row in existing.values() if row["is_active"])
    listed_active = sum(1 for row in incoming.values() if row["is_active"])
    if not active_before or listed_active >= active_before * SHRINK_GUARD_RATIO:
        return None
    return (
        f"shrink guard: {slug} listed {listed_active} active models but {active_before} are active in the"
        f" catalog (less than {SHRINK_GUARD_RATIO:.0%}), so nothing was deactivated. If the provider really"
        " dropped them, re-run with --force (sync-models) or force: true (run config)."
    )


def _canonical(row: dict[str, Any]) -> dict[str, Any]:
    row["metadata"] = jsonable(row["metadata"] or {})
    for column in ("input_modalities", "output_modalities"):
        row[column] = jsonable(row[column])
    row["content_hash"] = content_hash(row)
    return row


def content_hash(row: dict[str, Any]) -> str:
    """Equal for equal content whatever the Decimal spelling (1.25E-6 and 0.00000125 hash alike)."""
    # Called after _canonical: only the Decimals still need a canonical spelling.
    values = [to_fixed_point(row[c]) if c in _PRICE_SET else row[c] for c in _HASHED_COLUMNS]
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)  # dates: ISO
    return hashlib.sha1(text.encode()).hexdigest()


def _lock_provider(conn: Connection, spec: ProviderSpec, now: datetime) -> tuple[int, datetime | None]:
    """Create or refresh the provider row and lock it for this transaction."""
    described = {
        "name": spec.name,
        "base_url": spec.base_url,
        "api_key_env_var": spec.api_key_env_var,
        "kind": spec.kind,
        "is_active": True,
    }
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    # ON CONFLICT DO NOTHING: two first-ever syncs of one provider must not both fail on the slug.
    conn.execute(
        dialect_insert(providers)
        .values(slug=spec.slug, created_at=now, updated_at=now, **described)
        .on_conflict_do_nothing(index_elements=["slug"])
    )
    query = select(providers).where(providers.c.slug == spec.slug)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().one()
    changed = {key: value for key, value in described.items() if row[key] != value}
    if changed:
        conn.execute(update(providers).where(providers.c.id == row["id"]).values(updated_at=now, **changed))
    return row["id"], row["last_synced_at"]


def _existing_models(
    conn: Connection, provider_id: int, incoming: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Every catalog row of the provider: id, activity and hash for all, full content only for the
    rows whose hash differs from the incoming one (on an unchanged re-sync, none)."""
    light = conn.execute(
        select(models.c.id, models.c.provider_model_id, models.c.is_active, models.c.content_hash).where(
            models.c.provider_id == provider_id
        )
    )
    existing = {
        model_id: {"id": row_id, "is_active": is_active, "content_hash": stored_hash}
        for row_id, model_id, is_active, stored_hash in light
    }
    differing = [row["id"] for model_id, row in existing.items() if model_id in incoming and not _same_at_a_glance(row, incoming[model_id])]
    columns = [models.c.id, models.c.deactivated_at, models.c.price_observed_at, *(models.c[c] for c in CONTENT_COLUMNS)]
    by_id = {row["id"]: row for row in existing.values()}
    for start in range(0, len(differing), _CHUNK):
        chunk = differing[start : start + _CHUNK]
        for full in conn.execute(select(*columns).where(models.c.id.in_(chunk))).mappings():
            by_id[full["id"]].update(full)
    return existing


def _same_at_a_glance(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return old["content_hash"] == new["content_hash"] and old["is_active"] == new["is_active"]


@dataclass
class _Plan:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    rehash: list[dict[str, Any]] = field(default_factory=list)  # same content, hash never stored
    deactivate_ids: list[int] = field(default_factory=list)  # no longer listed


def _diff(
    existing: dict[str, dict[str, Any]], incoming: dict[str, dict[str, Any]], now: datetime
) -> tuple[CatalogDiff, _Plan]:
    diff, plan = CatalogDiff(), _Plan()
    for model_id, new in incoming.items():
        old = existing.get(model_id)
        if old is None:
            diff.added.append(model_id)
            plan.inserts.append(new)
            continue
        if _same_at_a_glance(old, new):
            diff.unchanged += 1
            continue
        held_here = suspicious_changes(model_id, old, new)
        for held in held_here:
            diff.held.append(held)
            new[held.column] = old[held.column]  # the row keeps its price until accepted
        if held_here:
            new["content_hash"] = content_hash(new)
        changes = {c: [jsonable(old[c]), jsonable(new[c])] for c in CONTENT_COLUMNS if not _same(old[c], new[c])}
        if not changes:
            diff.unchanged += 1
            if old["content_hash"] != new["content_hash"]:
                plan.rehash.append({"id": old["id"], "content_hash": new["content_hash"]})
            continue
        if not old["is_active"] and new["is_active"]:
            diff.reactivated.append(model_id)
        if set(changes) != {"is_active"} or model_id not in diff.reactivated:
            diff.updated[model_id] = changes
        # Listed but marked inactive by the provider: deactivated now, or still since then.
        deactivated_at = None if new["is_active"] else (old["deactivated_at"] if not old["is_active"] else now)
        if not _PRICE_PROVENANCE & changes.keys():
            new["price_observed_at"] = old["price_observed_at"]
        plan.updates.append({"id": old["id"], "deactivated_at": deactivated_at, **{c: new[c] for c in _UPDATED_COLUMNS if c != "deactivated_at"}})
    for model_id, old in existing.items():
        if model_id not in incoming and old["is_active"]:
            diff.deactivated.append(model_id)
            plan.deactivate_ids.append(old["id"])
    return diff, plan


def _new_prices(diff: CatalogDiff) -> list[str]:
    """Models whose stored prices this load sets: new ones, and changes not held."""
    return [*diff.added, *(model_id for model_id, fields in diff.updated.items() if _PRICE_SET & fields.keys())]


def _same(old: Any, new: Any) -> bool:
    if old is None or new is None:
        return old is None and new is None
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return Decimal(old) == Decimal(new)
    return old == new


def _apply(
    conn: Connection, provider_id: int, plan: _Plan, now: datetime, last_synced_at: datetime | None,
    pause_point: Callable[[Connection], None] | None,
) -> None:
    insert_models(
        conn,
        [
            {
                **row,
                "provider_id": provider_id,
                "first_seen_at": now,
                "last_seen_at": now,
                "deactivated_at": None if row["is_active"] else now,
                "created_at": now,
                "updated_at": now,
            }
            for row in plan.inserts
        ],
    )
    update_models(conn, plan.updates, _UPDATED_COLUMNS, now)
    for row in plan.rehash:
        conn.execute(update(models).where(models.c.id == row["id"]).values(content_hash=row["content_hash"]))
    if pause_point is not None:
        pause_point(conn)
    # The last sync that still listed these models is the provider's previous one.
    seen_until = last_synced_at or now
    for start in range(0, len(plan.deactivate_ids), _CHUNK):
        chunk = plan.deactivate_ids[start : start + _CHUNK]
        conn.execute(
            update(models)
            .where(models.c.id.in_(chunk))
            .values(is_active=False, deactivated_at=now, updated_at=now, last_seen_at=seen_until)
        )
