"""What GET /providers and GET /status report: specs, catalog counts, last runs, staleness.

Both routes read one `CatalogSnapshot` (four queries in all, whatever the number of providers),
shared for up to `SNAPSHOT_TTL_SECONDS` by every request that arrives meanwhile.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from catalog_pipeline.db.price_holds import pending_changes
from catalog_pipeline.db.queries import get_expiring_models, get_providers
from catalog_pipeline.defs.resources import CatalogDatabase, ProviderApis
from catalog_pipeline.pipeline.money import to_fixed_point
from catalog_pipeline.providers import ADAPTERS
from catalog_pipeline.settings import load_settings

from .offers import discrepancies_view
from .runs import RunSummary, iso
from .syncs import sync_counts

EXPIRING_WITHIN_DAYS = 30
MAX_STALE_AFTER_HOURS = 24.0 * 365 * 10
SNAPSHOT_TTL_SECONDS = 2.0


def default_stale_after_hours() -> float:
    return load_settings().stale_after_hours


def catalog_rows() -> dict[str, dict[str, Any]]:
    return {row["slug"]: row for row in get_providers(database_url=CatalogDatabase().resolved_url())}


def pending_price_changes() -> dict[str, list[dict[str, Any]]]:
    """Held price moves by provider, waiting for `sync-models --accept-pending <slug>`."""
    held: dict[str, list[dict[str, Any]]] = {}
    for row in pending_changes(CatalogDatabase().engine()):
        held.setdefault(row["provider"], []).append({
            "model": row["provider_model_id"],
            "field": row["column_name"],
            "kept": to_fixed_point(row["old_value"]),
            "pending": to_fixed_point(row["new_value"]),
            "first_detected_at": iso(_aware(row["first_detected_at"])),
            "run_id": row["run_id"],
        })
    return held


def expiring_models() -> list[dict[str, Any]]:
    return [
        {**row, "expiration_date": row["expiration_date"].isoformat(),
         "deprecation_date": row["deprecation_date"].isoformat() if row["deprecation_date"] else None}
        for row in get_expiring_models(EXPIRING_WITHIN_DAYS, database_url=CatalogDatabase().resolved_url())
    ]


def list_providers(rows: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    listed = []
    apis = ProviderApis().using(load_settings())
    for slug, module in ADAPTERS.items():
        spec = module.SPEC
        row = rows.get(slug) or {}
        listed.append({
            "slug": slug,
            "name": spec.name,
            "kind": spec.kind,
            "api_key_env_var": spec.api_key_env_var,
            "key_required": spec.key_required,
            "api_key_set": apis.api_key(spec) is not None,
            "model_count": row.get("model_count", 0),
            "active_model_count": row.get("active_model_count", 0),
            "last_synced_at": iso(row.get("last_synced_at")),
        })
    return listed


@dataclass(frozen=True)
class CatalogSnapshot:
    rows: dict[str, dict[str, Any]]
    last_runs: Mapping[str, RunSummary]
    pending: dict[str, list[dict[str, Any]]]
    read_at: datetime
    expiring: list[dict[str, Any]] = field(default_factory=list)
    discrepancies: list[dict[str, Any]] = field(default_factory=list)


class SnapshotCache:
    """The newest snapshot, read again once it is `ttl` seconds old. While one read is under way,
    other requests wait for it instead of starting their own."""

    def __init__(self, read: Callable[[], CatalogSnapshot], ttl: float = SNAPSHOT_TTL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._read = read
        self._ttl = ttl
        self._clock = clock
        self._lock = asyncio.Lock()
        self._value: CatalogSnapshot | None = None
        self._taken = 0.0
        self._generation = 0

    async def get(self) -> CatalogSnapshot:
        async with self._lock:
            if self._value is None or self._clock() - self._taken >= self._ttl:
                generation = self._generation
                self._value = await asyncio.to_thread(self._read)
                # Invalidated while reading: serve this one answer, read again next time.
                self._taken = self._clock() if generation == self._generation else -math.inf
            return self._value

    def invalidate(self) -> None:
        """The next request reads afresh (after a sync this server launched or saw finish)."""
        self._generation += 1
        self._value = None


def read_snapshot(last_runs: Callable[[list[str]], Mapping[str, RunSummary]]) -> CatalogSnapshot:
    return CatalogSnapshot(
        rows=catalog_rows(), last_runs=last_runs(list(ADAPTERS)), pending=pending_price_changes(),
        read_at=datetime.now(timezone.utc), expiring=expiring_models(), discrepancies=discrepancies_view(),
    )


def catalog_status(snapshot: CatalogSnapshot, *, stale_after_hours: float, now: datetime | None = None) -> dict[str, Any]:
    rows, pending = snapshot.rows, snapshot.pending
    now = now or datetime.now(timezone.utc)
    threshold = now - timedelta(hours=stale_after_hours)
    providers = []
    for slug in ADAPTERS:
        row = rows.get(slug) or {}
        synced_at = _aware(row.get("last_synced_at"))
        providers.append({
            "provider": slug,
            "last_success_at": iso(synced_at),
            "stale": synced_at is None or synced_at < threshold,
            "last_run": run_view(snapshot.last_runs.get(slug)),
            "pending_price_changes": pending.get(slug, []),
        })
    return {
        "generated_at": snapshot.read_at.isoformat(),
        "stale_after_hours": stale_after_hours,
        "stale_providers": [p["provider"] for p in providers if p["stale"]],
        "providers_with_pending_price_changes": sorted(pending),
        f"expiring_within_{EXPIRING_WITHIN_DAYS}_days": snapshot.expiring,
        "catalog": {
            "models": sum(row["model_count"] for row in rows.values()),
            "active_models": sum(row["active_model_count"] for row in rows.values()),
            "providers": {
                slug: {"models": row["model_count"], "active_models": row["active_model_count"]}
                for slug, row in sorted(rows.items())
            },
        },
        "price_discrepancies": snapshot.discrepancies,
        "providers": providers,
    }


def run_view(summary: RunSummary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    view: dict[str, Any] = {
        "run_id": summary.run_id,
        "status": summary.status,
        "dry_run": summary.dry_run,
        "trigger": summary.tags.get("catalog/trigger"),
        "started_at": iso(summary.started_at),
        "ended_at": iso(summary.ended_at),
        "duration_seconds": summary.duration_seconds,
        "counts": None,
        "error": summary.error,
    }
    if summary.metadata:
        counts = sync_counts(summary.metadata)
        counts.pop("diff", None)
        counts.pop("message", None)
        counts.pop("dry_run", None)
        view["counts"] = counts
    return view


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
