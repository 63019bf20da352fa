"""GET /admin/model-sync/changes: the change feed, newest first, one page per request.

Query: `since` (ISO 8601 time), `provider` (slug), `kind`, `limit` (1-1000, default 100) and
`cursor` (the `next_cursor` of the previous page). A value that could be read two ways is a
ValueError naming the parameter (the app answers 400), never a guess.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

from catalog_pipeline.db.changes import KINDS, read_changes
from catalog_pipeline.defs.resources import CatalogDatabase
from catalog_pipeline.providers import ADAPTERS

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
PARAMETERS = ("since", "provider", "kind", "limit", "cursor")


def changes_page(query: Iterable[tuple[str, str]]) -> dict[str, Any]:
    params = _single_values(query)
    since = _time(params["since"]) if "since" in params else None
    provider = params.get("provider")
    if provider is not None and provider not in ADAPTERS:
        raise ValueError(f"provider: unknown provider {provider[:40]!r}")
    kind = params.get("kind")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind[:40]!r}")
    limit = _whole("limit", params["limit"], 1, MAX_LIMIT) if "limit" in params else DEFAULT_LIMIT
    cursor = _whole("cursor", params["cursor"], 1, 2**63 - 1) if "cursor" in params else None
    # One row more than asked says whether another page exists.
    rows = read_changes(CatalogDatabase().engine(), since=since, provider=provider, kind=kind, limit=limit + 1, before_id=cursor)
    page = rows[:limit]
    return {"changes": page, "next_cursor": str(page[-1]["id"]) if len(rows) > limit else None}


def _single_values(query: Iterable[tuple[str, str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in query:
        if name not in PARAMETERS:
            raise ValueError(f"unknown parameter {name[:40]!r}; known: {', '.join(PARAMETERS)}")
        if name in params:
            raise ValueError(f"{name} is given more than once; give it once")
        if value == "":
            raise ValueError(f"{name} is empty")
        params[name] = value
    return params


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"since must be an ISO 8601 time such as 2026-11-01T00:00:00Z; got {text[:40]!r}") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _whole(name: str, text: str, low: int, high: int) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}; got {text[:40]!r}")
    return int(text)
