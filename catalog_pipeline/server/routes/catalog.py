"""GET /admin/model-sync/providers and GET /admin/model-sync/status: read the catalog's state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from ..params import number
from ..schemas import ProvidersAnswer, StatusAnswer
from ..status import MAX_STALE_AFTER_HOURS, catalog_status, default_stale_after_hours, list_providers
from .common import BAD_QUERY, documented, snapshots

router = APIRouter(prefix="/model-sync", tags=["catalog"])

stale_after_hours_param = number(
    "stale_after_hours", default_stale_after_hours, above=0, at_most=MAX_STALE_AFTER_HOURS,
    description="Flag a provider stale when its last successful sync is older (default: CATALOG_STALE_AFTER_HOURS, else 48).",
)


@router.get("/providers", summary="List providers, whether their key is set, and their model counts",
            response_model=ProvidersAnswer, responses=documented())
async def providers(request: Request) -> dict[str, Any]:
    snapshot = await snapshots(request).get()
    return {"providers": list_providers(snapshot.rows)}


@router.get("/status", summary="Last run, staleness and held price changes per provider; catalog totals",
            response_model=StatusAnswer, responses=documented(BAD_QUERY))
async def status(request: Request, stale_after_hours: float = Depends(stale_after_hours_param)) -> dict[str, Any]:
    snapshot = await snapshots(request).get()
    return catalog_status(snapshot, stale_after_hours=stale_after_hours)
