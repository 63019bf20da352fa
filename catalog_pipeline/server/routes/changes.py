"""GET /admin/model-sync/changes: the catalog's change feed, newest first, one page per request.
`change_feed.changes_page` reads and checks the query (unknown, repeated, empty or out-of-range
parameters are a 400 naming them); the parameters are declared here for the OpenAPI document."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, Request

from ..change_feed import DEFAULT_LIMIT, MAX_LIMIT, changes_page
from ..params import BadRequest
from ..schemas import ChangesAnswer
from .common import BAD_QUERY, documented

router = APIRouter(prefix="/model-sync", tags=["catalog"])


@router.get(
    "/changes",
    summary="The change feed, newest first: added, delisted, relisted, changed (per field), price_held, price_accepted",
    response_model=ChangesAnswer,
    responses=documented(BAD_QUERY),
)
async def changes(
    request: Request,
    since: str | None = Query(None, description="Only changes at or after this time (ISO 8601; UTC if no zone)."),
    provider: str | None = Query(None, description="Only this provider (slug)."),
    kind: str | None = Query(None, description="added, delisted, relisted, changed, price_held or price_accepted."),
    limit: str | None = Query(None, description=f"A whole number from 1 to {MAX_LIMIT}; default {DEFAULT_LIMIT}."),
    cursor: str | None = Query(None, description="next_cursor of the previous page."),
) -> dict[str, Any]:
    try:
        return await asyncio.to_thread(changes_page, request.query_params.multi_items())
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
