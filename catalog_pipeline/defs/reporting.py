"""What a sync says about itself: the summary line and the diff as run metadata."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
from dagster import TableColumn, TableColumnConstraints, TableSchema
from sqlalchemy import Engine, and_, case, func, select
from sqlalchemy.dialects import postgresql

from catalog_pipeline.db.load import CatalogDiff
from catalog_pipeline.db.schema import models
from catalog_pipeline.pipeline.money import to_fixed_point
from catalog_pipeline.pipeline.records import PRICE_COLUMNS

MAX_LISTED = 500
MAX_TABLE_ROWS = 25  # rows of the Markdown change table; the JSON diff has them all
_PRICE_LABELS = {
    "pricing_prompt": "input", "pricing_completion": "output", "pricing_cache_read": "cache read",
    "pricing_cache_write": "cache write", "pricing_image": "image", "pricing_request": "request",
}
_PER_TOKEN = frozenset({"pricing_prompt", "pricing_completion", "pricing_cache_read", "pricing_cache_write"})
COLUMN_DESCRIPTIONS = {
    "provider_model_id": "the exact name to call the provider's API with",
    **{c: "USD per token" for c in _PER_TOKEN},
    "pricing_image": "USD per image",
    "pricing_request": "USD per request",
    "is_active": "false once the provider stops listing the model (never deleted)",
    "metadata": "provider fields without a column, e.g. offers, unit_price / price_unit",
    "content_hash": "SHA-1 of the content columns, whatever a price's spelling; the link and export refresh compare it",
    "list_fingerprint": "64-bit fingerprint of the listed row last written here (NULL: unknown); a re-sync compares it",
    "link_key": "the link rules and name group this row was last linked in",
    "link_hash": "content_hash when this row was last linked",
}
# The per-sync counts every materialization of model_catalog carries, as CatalogDiff names them.
DIFF_COUNT_KEYS = tuple(CatalogDiff().counts())


def sync_message(slug: str, synced: int, fetched: int, skipped: int, *, dry_run: bool = False) -> str:
    verb = "Dry run: would sync" if dry_run else "Synced"
    return f"{verb} {synced} models from {slug}. Fetched: {fetched}, Transformed: {synced}, Skipped: {skipped}"


def diff_metadata(diff: CatalogDiff) -> dict[str, Any]:
    """The diff with changed fields, each list capped so run metadata stays small."""
    updated = dict(list(diff.updated.items())[:MAX_LISTED])
    return {
        "added": diff.added[:MAX_LISTED],
        "updated": updated,
        "reactivated": diff.reactivated[:MAX_LISTED],
        "deactivated": diff.deactivated[:MAX_LISTED],
        "held": [
            {"model": h.provider_model_id, "field": h.column, "kept": to_fixed_point(h.old), "pending": to_fixed_point(h.new)}
            for h in diff.held[:MAX_LISTED]
        ],
        "withheld_deactivations": diff.withheld_deactivations[:MAX_LISTED],
        "truncated": any(
            len(items) > MAX_LISTED
            for items in (diff.added, diff.updated, diff.reactivated, diff.deactivated, diff.held, diff.withheld_deactivations)
        ),
    }


def changes_markdown(diff: CatalogDiff, frame: pd.DataFrame) -> str:
    """The first changes of a sync as a Markdown table: added, repriced (per 1M tokens), delisted."""
    repriced = []
    for model_id, changes in diff.updated.items():
        moves = [f"{_PRICE_LABELS[c]}: {_per_unit(c, old)} → {_per_unit(c, new)}" for c, (old, new) in changes.items() if c in _PRICE_LABELS]
        if moves:
            repriced.append(("repriced", model_id, "; ".join(moves)))
    total = len(diff.added) + len(repriced) + len(diff.reactivated) + len(diff.deactivated)
    if not total:
        return "No model added, repriced or delisted."
    # Only the shown rows are looked up: a first sync adds every model of the provider.
    # Plain dicts: a pandas row lookup copies the row's Decimals into a Series, 14 ms each.
    added = diff.added[:MAX_TABLE_ROWS]
    shown_rows = frame.loc[frame["provider_model_id"].isin(added), ["provider_model_id", *PRICE_COLUMNS]]
    by_id = {row["provider_model_id"]: row for row in shown_rows.to_dict("records")}
    rows = [("added", model_id, _prices_of(by_id[model_id]) if model_id in by_id else "") for model_id in added]
    rows += repriced[:MAX_TABLE_ROWS]
    rows += [("reactivated", model_id, "") for model_id in diff.reactivated[:MAX_TABLE_ROWS]]
    rows += [("delisted", model_id, "") for model_id in diff.deactivated[:MAX_TABLE_ROWS]]
    shown = rows[:MAX_TABLE_ROWS]
    lines = ["| change | model | prices (USD per 1M tokens; image, request: per unit) |", "|---|---|---|"]
    lines += [f"| {kind} | {_cell(model_id)} | {_cell(detail)} |" for kind, model_id, detail in shown]
    if total > len(shown):
        lines.append(f"\n{total - len(shown)} more changes: see `diff`.")
    return "\n".join(lines)


def frame_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Active and unpriced (active, no price at all) models of a normalized frame."""
    active = frame[frame["is_active"].fillna(False).astype(bool)]
    unpriced = active[list(PRICE_COLUMNS)].isna().all(axis=1)
    return {"active_models": len(active), "unpriced_models": int(unpriced.sum())}


def catalog_counts(engine: Engine, provider_id: int) -> dict[str, int]:
    """Active and unpriced (active, no price at all) models of a provider as the catalog holds them."""
    unpriced = and_(models.c.is_active.is_(True), *(models.c[c].is_(None) for c in PRICE_COLUMNS))
    query = select(
        func.coalesce(func.sum(case((models.c.is_active.is_(True), 1), else_=0)), 0),
        func.coalesce(func.sum(case((unpriced, 1), else_=0)), 0),
    ).where(models.c.provider_id == provider_id)
    with engine.connect() as conn:
        active, without_price = conn.execute(query).one()
    return {"active_models": int(active), "unpriced_models": int(without_price)}


def _column_type(column) -> str:
    try:
        return str(column.type.compile(dialect=postgresql.dialect()))
    except Exception:  # noqa: BLE001 - a type PostgreSQL cannot spell: its SQLAlchemy name will do
        return type(column.type).__name__


def _prices_of(row: dict[str, Any]) -> str:
    return "; ".join(f"{_PRICE_LABELS[c]}: {_per_unit(c, row[c])}" for c in PRICE_COLUMNS if row[c] is not None and not pd.isna(row[c]))


def _per_unit(column: str, value: Any) -> str:
    if value is None:
        return "unknown"
    price = Decimal(str(value))
    return "$" + to_fixed_point(price.scaleb(6) if column in _PER_TOKEN else price)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# What the catalog page shows as the table's columns: the `models` table, as the load writes it.
CATALOG_COLUMN_SCHEMA = TableSchema(
    columns=[
        TableColumn(
            name=column.name,
            type=_column_type(column),
            description=COLUMN_DESCRIPTIONS.get(column.name, ""),
            constraints=TableColumnConstraints(nullable=column.nullable, unique=column.primary_key),
        )
        for column in models.columns
    ]
)
