"""What a sync says about itself: the summary line and the diff as run metadata."""

from __future__ import annotations

from typing import Any

from catalog_pipeline.db.load import CatalogDiff
from catalog_pipeline.pipeline.money import to_fixed_point

MAX_LISTED = 500
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
