"""Diff a provider's normalized frame against the catalog and apply it in one transaction.

Only rows whose content changed are written, so an unchanged re-sync writes nothing but the
provider's `last_synced_at`. Each listed row's fingerprint (`db/fingerprint.py`) is compared with
the one stored with the model: only rows whose fingerprint moved (or is unknown) are spelled, read
in full and diffed (on PostgreSQL the same list on the same rows is recognized without even that:
`db/list_digest.py`). A model the provider no longer lists is deactivated, never deleted;
one that comes back is reactivated. The provider row is locked first (PostgreSQL `FOR UPDATE`,
SQLite `BEGIN IMMEDIATE`), so two loads of one provider serialize and each diffs against the
other's committed result. Three guards protect the rows from a broken answer:

- shrink guard: a list with fewer than half of the provider's active models deactivates nothing;
- overlap guard: so does a list, however long, that still names fewer than half of them;
- price holds: a price moving more than 10x, or from paid to free, keeps its old value until an
  operator accepts it (`db/price_holds.py`).
"""

from __future__ import annotations

from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from functools import cached_property
from operator import itemgetter
from typing import Any, Callable

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from catalog_pipeline.collector import collector_paused
from catalog_pipeline.pipeline.records import MODEL_COLUMNS, PRICE_COLUMNS, frame_columns
from catalog_pipeline.pipeline.spec import ProviderSpec

from .background import in_background, in_order
from .bulk_write import batches, insert_models, one_of, update_models
from .changes import record_load_changes, spell_load_changes
from .fingerprint import row_fingerprints
from .history import open_first_periods, open_new_periods, reopen_periods, reopened_periods_text
from .jsonable import jsonable, loads_stored, stored_json
from .list_digest import STATE_AGGREGATES, catalog_state, fingerprints_digest, list_digest, state_text
from .price_holds import HeldChange, replace_pending, suspicious_changes
from .row_text import CONTENT_COLUMNS, HASHED_COLUMNS, JSON_COLUMNS, NULL, content_hash, frame_text, row_hashes, value_text
from .schema import models, providers

# Written with every update, besides the content columns that changed in any updated row.
_UPDATE_BOOKKEEPING = ("content_hash", "list_fingerprint", "deactivated_at", "price_observed_at")
_REHASHED_COLUMNS = ("content_hash", "list_fingerprint")
_PRICE_SET = frozenset(PRICE_COLUMNS)
# price_observed_at moves only when one of these does, so an unchanged price keeps its first sighting.
_PRICE_PROVENANCE = frozenset({*PRICE_COLUMNS, "price_source"})
SHRINK_GUARD_RATIO = 0.5
# Differing rows are diffed and written in two slices when there are more than this: the server
# writes the first while Python diffs the second.
_DIFF_SLICE = 2500
_SIDE_BY_SIDE_ROWS = 10_000


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
    with collector_paused():
        return _load(engine, spec, frame, now, dry_run=dry_run, force=force, run_id=run_id, pause_point=pause_point)


def _load(
    engine: Engine, spec: ProviderSpec, frame: pd.DataFrame, now: datetime, *, dry_run: bool, force: bool,
    run_id: str | None, pause_point: Callable[[Connection], None] | None,
) -> LoadReport:
    listed = _Listed.of(frame, now)
    postgresql = engine.dialect.name == "postgresql"
    if not postgresql:
        listed.fingerprints  # SQLite's write lock admits one writer: taken before it
    with engine.connect() as conn, conn.begin() as transaction:
        if postgresql:  # the time new rows take by default (revision 0010): every time the load writes is the same
            now = listed.now = conn.exec_driver_sql("SELECT now()").scalar_one().astimezone(timezone.utc)
        provider_id, last_synced_at, digest_before = _lock_provider(conn, spec, now)
        # Below this many rows the threads' hand-offs cost more than Python and the server gain.
        beside = postgresql and len(frame) >= _SIDE_BY_SIDE_ROWS
        # A first load needs no fingerprint before its rows are spelled (PostgreSQL's takes them a
        # slice at a time, see `_Listed.spell`); any other on PostgreSQL compares them first.
        stored = state = digest = None
        if beside:  # the server reads the rows' state and stored fingerprints while Python fingerprints the list
            # Both from one pass over the rows: when the list turns out to be the same, the stored
            # fingerprints are dropped, but they cost the server its other core, not the load its time.
            with in_background(_stored_models, conn, provider_id, digest_before is not None) as stored_later:
                digest = fingerprints_digest(listed.fingerprints) if digest_before is not None else None
                stored, state = stored_later()
        elif postgresql and digest_before is not None:
            digest = fingerprints_digest(listed.fingerprints)
            if digest_before.startswith(f"{digest}:"):  # the rows' state costs a pass over them: only for the same list
                state = catalog_state(conn, provider_id)
        if _same_list_on_same_rows(digest, state, digest_before):
            return _unchanged(conn, transaction, provider_id, len(frame), now, dry_run)
        if stored is None:
            stored, _ = _stored_models(conn, provider_id)
        match = _Match.of(stored, listed)
        shrink = None if force else deactivation_guard_reason(spec.slug, stored, listed, match)
        spelled_changes = None
        # A first load's only write is its COPY, which the caller would just wait for on a thread.
        with in_order(on_thread=beside and not dry_run and not stored.empty) as write:
            diff = _diff(conn, provider_id, listed, stored, match, now, run_id, None if dry_run else write, beside)
            if shrink:
                diff.withheld_deactivations, diff.deactivated = diff.deactivated, []
            if postgresql and not dry_run and not stored.empty:  # while the server writes the last slice
                spelled_changes = spell_load_changes(provider_id, diff, now, run_id)
        report = LoadReport(provider_id=provider_id, diff=diff, dry_run=dry_run, synced_at=now, shrink_guard=shrink)
        if dry_run:
            transaction.rollback()
            return report
        _finish_writes(conn, provider_id, diff, now, last_synced_at, pause_point)
        if stored.empty:  # the provider's first load: every one of its rows is new
            open_first_periods(conn, provider_id, now, run_id)
        else:
            open_new_periods(conn, provider_id, diff.added, now, run_id)  # the repriced rows' periods came with their slice
        report.changes = record_load_changes(conn, provider_id, diff, now, run_id, first_load=stored.empty, spelled=spelled_changes)
        replace_pending(conn, provider_id, diff.held, now, run_id)
        # Only a load that left the rows as the list says may be skipped when the list comes again.
        clean = postgresql and not shrink and not diff.held
        synced = {"list_digest": list_digest(conn, provider_id, digest or fingerprints_digest(listed.fingerprints))} if clean else {}
        if digest_before is not None and not clean:
            synced["list_digest"] = None
        if not shrink:  # a list the guard distrusted is not a successful sync
            synced["last_synced_at"] = now
        if synced:
            conn.execute(update(providers).where(providers.c.id == provider_id).values(**synced))
    return report


def _at_once(read: Callable[..., Any], *args: Any):
    """`in_background`'s shape for a read done there and then."""
    return nullcontext(lambda: read(*args))


def _same_list_on_same_rows(digest: str | None, state: str | None, digest_before: str | None) -> bool:
    return None not in (digest, state, digest_before) and digest_before == f"{digest}:{state}"


def _unchanged(conn: Connection, transaction, provider_id: int, listed: int, now: datetime, dry_run: bool) -> LoadReport:
    report = LoadReport(provider_id=provider_id, diff=CatalogDiff(unchanged=listed), dry_run=dry_run, synced_at=now)
    if dry_run:
        transaction.rollback()
    else:
        conn.execute(update(providers).where(providers.c.id == provider_id).values(last_synced_at=now))
    return report


@dataclass
class _Match:
    """Where each listed row is stored (`at`: its position among the stored rows, -1 when new) and
    which stored rows the list still names: by position when both are in one order, else from one
    hash table of the stored ids."""

    at: np.ndarray
    known: np.ndarray  # per listed row
    still_listed: np.ndarray  # per stored row

    @classmethod
    def of(cls, stored: pd.DataFrame, listed: "_Listed") -> "_Match":
        if stored.index.equals(listed.ids):  # the same ids in the same order: no hash table needed
            at = np.arange(len(listed.ids))
            return cls(at=at, known=np.ones(len(at), dtype=bool), still_listed=np.ones(len(at), dtype=bool))
        at = stored.index.get_indexer(listed.ids)
        known = at >= 0
        still_listed = np.zeros(len(stored), dtype=bool)
        still_listed[at[known]] = True
        return cls(at=at, known=known, still_listed=still_listed)


def deactivation_guard_reason(slug: str, stored: pd.DataFrame, listed: "_Listed", match: _Match) -> str | None:
    """Why this list must deactivate nothing (reported by the `shrink_guard` check), or None."""
    active = stored["is_active"].to_numpy(dtype=bool)
    active_before = int(active.sum())
    return shrink_guard_reason(slug, active_before, int(listed.is_active.sum())) or overlap_guard_reason(
        slug, active_before, int((active & match.still_listed).sum()), len(listed.ids)
    )


def overlap_guard_reason(slug: str, active_before: int, still_listed: int, listed: int) -> str | None:
    """A list of unknown ids (another provider's, or a placeholder answer) passes the shrink guard
    by its length alone; what counts is how many of the active models it still names."""
    if not active_before or still_listed >= active_before * SHRINK_GUARD_RATIO:
        return None
    return (
        f"overlap guard: {slug} listed {listed} models, but only {still_listed} of the {active_before}"
        f" active in the catalog are among them (less than {SHRINK_GUARD_RATIO:.0%}), so nothing was deactivated."
        " If the provider really replaced its list, re-run with --force (sync-models) or force: true (run config)."
    )


def shrink_guard_reason(slug: str, active_before: int, listed_active: int) -> str | None:
    if not active_before or listed_active >= active_before * SHRINK_GUARD_RATIO:
        return None
    return (
        f"shrink guard: {slug} listed {listed_active} active models but {active_before} are active in the"
        f" catalog (less than {SHRINK_GUARD_RATIO:.0%}), so nothing was deactivated. If the provider really"
        " dropped them, re-run with --force (sync-models) or force: true (run config)."
    )


@dataclass
class _Listed:
    """The provider's list: the frame and each row's fingerprint; the COPY text and content hash of
    only the rows the load spells (`spell_rows`: those it adds, and those whose fingerprint moved)."""

    frame: pd.DataFrame
    ids: pd.Index
    is_active: np.ndarray
    now: datetime
    # column -> text by position in the frame (a dict of the spelled rows, a list when that is all)
    texts: dict[str, dict[int, str] | list[str]] = field(default_factory=dict)
    # start -> fingerprints of the slice `spell` gave from there, before all were needed at once
    _sliced_fingerprints: dict[int, np.ndarray] = field(default_factory=dict)

    @classmethod
    def of(cls, frame: pd.DataFrame, now: datetime | None = None) -> "_Listed":
        return cls(
            frame=frame,
            ids=pd.Index(frame["provider_model_id"].to_numpy(dtype=object)),
            is_active=frame["is_active"].to_numpy(dtype=bool, na_value=True),
            now=now or datetime.now(timezone.utc),
        )

    @cached_property
    def fingerprints(self) -> np.ndarray:
        """Each row's fingerprint (db/fingerprint.py): those of the slices `spell` gave, when they
        cover the frame, else taken now."""
        starts = sorted(self._sliced_fingerprints)
        if starts and starts[0] == 0:
            parts = [self._sliced_fingerprints[start] for start in starts]
            if sum(map(len, parts)) == len(self.frame) and all(
                start + len(part) == next_start for start, part, next_start in zip(starts, parts, starts[1:])
            ):
                return np.concatenate(parts)
        return row_fingerprints(self.frame)

    @cached_property
    def _priced(self) -> np.ndarray:
        """Whether each row has a price at all."""
        return self.frame[list(PRICE_COLUMNS)].notna().any(axis=1).to_numpy()

    def price_observed_at(self, positions: list[int] | slice) -> list[datetime | None]:
        """When the price of each row at `positions` was seen (None: it has none)."""
        # When a second source saw the price, the frame says so; a provider's own price is seen now.
        observed_by_id = self.frame.attrs.get("price_observed_at") or {}
        priced = self._priced[positions].tolist()
        if not observed_by_id:
            return [self.now if has_price else None for has_price in priced]
        return [
            observed_by_id.get(model_id, self.now) if has_price else None
            for model_id, has_price in zip(self.ids[positions].tolist(), priced)
        ]

    def spell(self, start: int, stop: int) -> dict[str, list[str]]:
        """COPY text of the rows from `start` to `stop`, with their content hashes and fingerprints
        (a first load spells its rows a slice at a time, as it sends them)."""
        part = self.frame if (start, stop) == (0, len(self.frame)) else self.frame.iloc[start:stop]
        if "fingerprints" in self.__dict__:
            fingerprints = self.fingerprints[start:stop]
        else:  # a first load's slice: taken while the server parses the slice before (Python's idle otherwise)
            fingerprints = self._sliced_fingerprints[start] = row_fingerprints(part)
        return self._text(part, fingerprints, self.price_observed_at(slice(start, stop)))

    def spell_rows(self, positions: list[int]) -> None:
        """Spell the rows at `positions` into `texts`."""
        if not positions:
            return
        texts = self._text(
            self.frame.iloc[positions], self.fingerprints[positions], self.price_observed_at(positions)
        )
        every_row = len(positions) == len(self.frame)  # distinct positions: then 0, 1, 2, ...
        for column, values in texts.items():
            if every_row:
                self.texts[column] = values
            else:  # the slices of one load add up
                self.texts.setdefault(column, {}).update(zip(positions, values))

    @staticmethod
    def _text(part: pd.DataFrame, fingerprints: np.ndarray, observed: list[datetime | None]) -> dict[str, list[str]]:
        texts = frame_text(part, MODEL_COLUMNS)
        texts["content_hash"] = row_hashes(texts, HASHED_COLUMNS)
        texts["list_fingerprint"] = list(map(str, fingerprints.tolist()))
        spelled = {None: NULL}  # most rows share `now`: spell each time once
        texts["price_observed_at"] = [
            spelled[when] if when in spelled else spelled.setdefault(when, when.isoformat()) for when in observed
        ]
        return texts

    def rows(self, positions: list[int]) -> list[dict[str, Any]]:
        """Plain Python rows (JSON columns as stored) of the spelled rows at `positions`, with their
        hash and fingerprint."""
        values = frame_columns(self.frame.iloc[positions])
        rows = [dict(zip(MODEL_COLUMNS, row)) for row in zip(*(values[c] for c in MODEL_COLUMNS))]
        for position, row, observed in zip(positions, rows, self.price_observed_at(positions)):
            for column in JSON_COLUMNS:
                row[column] = stored_json(column, row[column])
            row["position"] = position
            row["content_hash"] = self.texts["content_hash"][position]
            row["list_fingerprint"] = int(self.fingerprints[position])
            row["price_observed_at"] = observed
        return rows


def _lock_provider(conn: Connection, spec: ProviderSpec, now: datetime) -> tuple[int, datetime | None, str | None]:
    """Create or refresh the provider row and lock it for this transaction; returns its id, last
    sync and list digest."""
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
    return row["id"], row["last_synced_at"], row["list_digest"]


def _stored_models(conn: Connection, provider_id: int, with_state: bool = False) -> tuple[pd.DataFrame, str | None]:
    """Id (`models.id`), list fingerprint and activity of every catalog row of the provider,
    indexed by provider_model_id; `with_state` (PostgreSQL), the rows' state as well
    (`list_digest.catalog_state`), else None."""
    # The driver's cursor: plain tuples, no Row object per model.
    with closing(conn.connection.dbapi_connection.cursor()) as cursor:
        if conn.dialect.name == "postgresql":
            return _stored_models_from_postgresql(cursor, provider_id, with_state)
        cursor.execute("SELECT provider_model_id, id, list_fingerprint, is_active FROM models WHERE provider_id = ?", (provider_id,))
        rows = cursor.fetchall()
    ids, row_ids, fingerprints, active = zip(*rows) if rows else ((), (), (), ())
    stored = pd.DataFrame(
        # Int64: exact 64-bit values, NULL as NA (a float column would round them)
        {
            "id": np.array(row_ids, dtype=np.int64),
            "list_fingerprint": pd.array(fingerprints, dtype="Int64"),
            "is_active": np.array(active, dtype=bool),
        },
        index=pd.Index(ids, dtype=object, name="provider_model_id"),
    )
    return stored, None


# Each row's id and fingerprint as 8 big-endian bytes, its flags as one byte, concatenated in the
# rows' order: numpy reads them with no Python object per value (psycopg building 300,000 ints and
# bools from arrays took most of this read's interpreter time, which fingerprinting waits for).
_PACKED_ROWS = (
    "array_agg(provider_model_id), string_agg(int8send(id), ''::bytea),"
    " string_agg(int8send(coalesce(list_fingerprint, 0)), ''::bytea),"
    " string_agg(CASE WHEN list_fingerprint IS NULL THEN '\\x01'::bytea ELSE '\\x00'::bytea END, ''::bytea),"
    " string_agg(CASE WHEN is_active THEN '\\x01'::bytea ELSE '\\x00'::bytea END, ''::bytea)"
)


def _stored_models_from_postgresql(cursor, provider_id: int, with_state: bool) -> tuple[pd.DataFrame, str | None]:
    # In the order the rows were added, which is the list's as long as the provider keeps its
    # order: `_Match` then needs no hash table (only the aggregates' alignment is guaranteed; an
    # order that differs only costs that shortcut).
    cursor.execute(
        f"SELECT {_PACKED_ROWS}{', ' + STATE_AGGREGATES if with_state else ''} FROM (SELECT provider_model_id, id,"
        f" list_fingerprint, is_active{', xmin' if with_state else ''} FROM models WHERE provider_id = %s ORDER BY id) AS stored",
        (provider_id,),
        binary=True,
    )
    ids, row_ids, fingerprints, unknown, active, *aggregates = cursor.fetchone()
    stored = pd.DataFrame(
        {
            "id": np.frombuffer(row_ids or b"", dtype=">i8").astype(np.int64),
            # Int64: exact 64-bit values, NULL as NA
            "list_fingerprint": pd.arrays.IntegerArray(
                np.frombuffer(fingerprints or b"", dtype=">i8").astype(np.int64), np.frombuffer(unknown or b"", dtype=np.uint8).astype(bool)
            ),
            "is_active": np.frombuffer(active or b"", dtype=np.uint8).astype(bool),
        },
        index=pd.Index(ids or [], dtype=object, name="provider_model_id"),
    )
    return stored, state_text(*aggregates) if with_state else None


def _stored_rows(conn: Connection, provider_id: int, model_ids: list[str], row_ids: np.ndarray) -> dict[str, dict[str, Any]]:
    """Full content of the given models (by provider_model_id, and on PostgreSQL by their
    `models.id`, `row_ids`), for the rows whose fingerprint or activity differs."""
    columns = [models.c.id, models.c.provider_model_id, models.c.content_hash, models.c.list_fingerprint, models.c.deactivated_at, models.c.price_observed_at, *(models.c[c] for c in CONTENT_COLUMNS)]
    names = [column.name for column in columns]
    if conn.dialect.name != "postgresql":
        rows = []
        for batch in batches(conn, model_ids):
            rows += conn.execute(select(*columns).where(models.c.provider_id == provider_id, one_of(conn, models.c.provider_model_id, batch))).all()
        return {row[1]: dict(zip(names, row)) for row in rows}
    # psycopg's own types are the catalog's (no Row per model); JSON comes as text, parsed here.
    selected = [f"{name}::text" if name in JSON_COLUMNS else name for name in names]
    # By the primary key, sent as an array's text: no dumper per id, an integer compared per probe.
    with closing(conn.connection.dbapi_connection.cursor()) as cursor:
        cursor.execute(
            f"SELECT {', '.join(selected)} FROM models WHERE provider_id = %s AND id = ANY(%s::bigint[])",
            (provider_id, "{" + ",".join(map(str, row_ids.tolist())) + "}"),
        )
        rows = cursor.fetchall()
    stored = {row[1]: dict(zip(names, row)) for row in rows}
    # Equal texts are given one value: a column of few distinct documents (the modalities) is
    # parsed, and spelled again by the diff, once per document. The values are only read.
    parsed: dict[str, Any] = {None: None}
    for row in stored.values():
        for column in JSON_COLUMNS:
            text = row[column]
            value = parsed.get(text, parsed)
            row[column] = parsed.setdefault(text, loads_stored(text)) if value is parsed else value
    return stored


@dataclass
class _Plan:
    updates: list[dict[str, Any]] = field(default_factory=list)
    rehash: list[dict[str, Any]] = field(default_factory=list)  # same content, other hash or fingerprint
    repriced: list[int] = field(default_factory=list)  # models.id of rows whose stored prices change
    changed_columns: set[str] = field(default_factory=set)  # content columns some update changes

    def updated_columns(self) -> tuple[str, ...]:
        """What the updates write: a column no row changes keeps its stored value."""
        return (*(c for c in CONTENT_COLUMNS if c in self.changed_columns), *_UPDATE_BOOKKEEPING)


def _diff(
    conn: Connection, provider_id: int, listed: _Listed, stored: pd.DataFrame, match: _Match, now: datetime,
    run_id: str | None, write: Callable[..., None] | None, beside: bool,
) -> CatalogDiff:
    """Fingerprints and activity compared over whole columns; only rows that differ (or whose
    fingerprint is unknown) are spelled, read in full and diffed. Each slice of them is handed to
    `write` (None: a dry run) once diffed, with the rows added before them: `beside` (a long list
    on PostgreSQL), the server reads the old rows while Python spells, and applies one slice while
    Python diffs the next."""
    diff = CatalogDiff()
    if stored.empty:  # a first load: every row is added (and its fingerprints are taken as it is spelled)
        inserts, diff.added = list(range(len(listed.ids))), listed.ids.tolist()
        if conn.dialect.name != "postgresql":  # PostgreSQL's spells its rows a slice at a time as it sends them
            listed.spell_rows(inserts)
        if write:
            write(insert_models, conn, listed, inserts, provider_id, now)
        return diff
    at, known = np.where(match.known, match.at, 0), match.known
    fingerprints = stored["list_fingerprint"]
    stored_active = stored["is_active"].to_numpy(dtype=bool)
    same = (
        known
        & fingerprints.notna().to_numpy()[at]  # an unknown fingerprint matches nothing
        & (fingerprints.to_numpy(dtype="int64", na_value=0)[at] == listed.fingerprints)
        # A deactivated model keeps its fingerprint, so activity is compared on its own.
        & (stored_active[at] == listed.is_active)
    )
    diff.unchanged = int(same.sum())
    inserts = np.flatnonzero(~known).tolist()
    diff.added = listed.ids[inserts].tolist()
    diff.deactivated = stored.index[stored_active & ~match.still_listed].tolist()
    differing = np.flatnonzero(known & ~same).tolist()
    differing_ids = listed.ids[differing].tolist()
    size = max(_DIFF_SLICE, -(-len(differing) // 2))
    slices = [differing[start : start + size] for start in range(0, len(differing), size)] or [[]]
    differing_rows = stored["id"].to_numpy()[at[differing]]
    with (in_background if beside and differing else _at_once)(_stored_rows, conn, provider_id, differing_ids, differing_rows) as old_rows_later:
        # Every row the load may write, spelled while the server reads the old rows (which takes
        # longer than spelling one slice): later slices are then only diffed while it writes.
        listed.spell_rows(sorted(inserts + differing))
        old_rows = old_rows_later()
    if write and inserts:
        write(insert_models, conn, listed, inserts, provider_id, now)
    for positions in slices:
        part = _Plan()
        _diff_rows(diff, part, listed, positions, [old_rows[model_id] for model_id in listed.ids[positions]], now)
        if write:
            write(_write_slice, conn, listed, part, now, run_id)
    return diff


def _write_slice(conn: Connection, listed: _Listed, part: _Plan, now: datetime, run_id: str | None) -> None:
    """A slice's updates, with the price periods of the rows it repriced."""
    if conn.dialect.name == "postgresql":  # the price periods go in the update's round trip
        reopened = reopened_periods_text(conn, part.repriced, now, run_id) if part.repriced else ""
        update_models(conn, part.updates, part.updated_columns(), now, listed.texts, then=reopened)
        update_models(conn, part.rehash, _REHASHED_COLUMNS, None)
        return
    update_models(conn, _with_listed_values(listed, part.updates), part.updated_columns(), now)  # no COPY text here
    update_models(conn, part.rehash, _REHASHED_COLUMNS, None)
    reopen_periods(conn, part.repriced, now, run_id)


def _diff_rows(
    diff: CatalogDiff, plan: _Plan, listed: _Listed, positions: list[int], olds: list[dict[str, Any]], now: datetime
) -> None:
    """Diff the listed rows at `positions` with their stored `olds`, a column at a time: most of a
    row is equal, and a pass over a column costs far less than a dict per row."""
    if not positions:
        return
    new_values = frame_columns(listed.frame.iloc[positions])
    moved: list[dict[str, Any]] = [{} for _ in positions]  # per row: column -> new value, where it differs
    for column in CONTENT_COLUMNS:
        old_values = list(map(itemgetter(column), olds))
        if column in JSON_COLUMNS:
            # The same JSON text is the same document: only a row whose text differs is converted
            # (a walk of the whole value) and compared. Equal stored documents are one object
            # (`_stored_rows`), spelled once.
            listed_text, old_texts = listed.texts[column], {}
            for row, old, new, position in zip(moved, old_values, new_values[column], positions):
                old_text = old_texts.get(id(old))
                if old_text is None:
                    old_text = old_texts[id(old)] = value_text(column, old)
                if old_text != listed_text[position]:
                    new = stored_json(column, new)
                    if old != new:
                        row[column] = new
            continue
        # `!=` first: most values are equal, and equal values are the same (see `_same`)
        for row, old, new in zip(moved, old_values, new_values[column]):
            if old != new and not _same(old, new):
                row[column] = new
    for position, old, changed in zip(positions, olds, moved):
        _diff_row(diff, plan, listed, position, old, changed, now)


def _diff_row(
    diff: CatalogDiff, plan: _Plan, listed: _Listed, position: int, old: dict[str, Any], changed: dict[str, Any], now: datetime,
) -> None:
    """One listed row against its stored `old`, given the columns whose value `changed` (to what)."""
    model_id = old["provider_model_id"]
    update_row: dict[str, Any] = {"id": old["id"], "position": position}  # columns not given: the listed text
    held_here = suspicious_changes(model_id, old, changed)
    if held_here:
        # The row keeps its price until accepted: written from its values, not from the listed text.
        update_row = {"id": old["id"], **listed.rows([position])[0]}
        del update_row["position"]
        for held in held_here:
            diff.held.append(held)
            update_row[held.column] = old[held.column]
            del changed[held.column]
        update_row["content_hash"] = content_hash(update_row)
        update_row["list_fingerprint"] = None  # the row is not what the list says
    if not changed:
        diff.unchanged += 1
        new_hash = update_row.get("content_hash", listed.texts["content_hash"][position])
        new_fingerprint = update_row.get("list_fingerprint", int(listed.fingerprints[position]))
        if old["content_hash"] != new_hash or old["list_fingerprint"] != new_fingerprint:
            plan.rehash.append({"id": old["id"], "content_hash": new_hash, "list_fingerprint": new_fingerprint})
        return
    changes = {column: [jsonable(old[column]), jsonable(new)] for column, new in changed.items()}
    new_active = changed.get("is_active", old["is_active"])
    if not old["is_active"] and new_active:
        diff.reactivated.append(model_id)
    if set(changes) != {"is_active"} or model_id not in diff.reactivated:
        diff.updated[model_id] = changes
    plan.changed_columns.update(changes)
    if _PRICE_SET & changes.keys():  # held moves were taken out above: only applied ones count
        plan.repriced.append(old["id"])
    # Listed but marked inactive by the provider: deactivated now, or still since then.
    update_row["deactivated_at"] = None if new_active else (old["deactivated_at"] if not old["is_active"] else now)
    if not _PRICE_PROVENANCE & changes.keys():  # the price is as it was: so is its first sighting
        update_row["price_observed_at"] = old["price_observed_at"]
    plan.updates.append(update_row)


def _with_listed_values(listed: _Listed, updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each update of a listed row with its columns' values (those it does not set itself)."""
    at = [row["position"] for row in updates if "position" in row]
    listed_rows = iter(listed.rows(at))
    return [{**next(listed_rows), **row} if "position" in row else row for row in updates]


def _same(old: Any, new: Any) -> bool:
    if old is None or new is None:
        return old is None and new is None
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return Decimal(old) == Decimal(new)
    return old == new


def _finish_writes(
    conn: Connection, provider_id: int, diff: CatalogDiff, now: datetime,
    last_synced_at: datetime | None, pause_point: Callable[[Connection], None] | None,
) -> None:
    """After the rows are inserted and updated: the deactivations (a crash test's `pause_point`
    runs before them)."""
    if pause_point is not None:
        pause_point(conn)
    # The last sync that still listed these models is the provider's previous one.
    seen_until = last_synced_at or now
    for chunk in batches(conn, diff.deactivated):
        conn.execute(
            update(models)
            .where(models.c.provider_id == provider_id, one_of(conn, models.c.provider_model_id, chunk))
            .values(is_active=False, deactivated_at=now, updated_at=now, last_seen_at=seen_until)
        )
