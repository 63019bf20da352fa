"""What every route module shares: the request's services and the documented error answers."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ..schemas import ErrorAnswer
from ..status import SnapshotCache
from ..syncs import SyncService

UNAUTHORIZED = {401: {"model": ErrorAnswer, "description": "Missing or wrong key (`WWW-Authenticate: Bearer`)"}}
BAD_QUERY = {400: {"model": ErrorAnswer, "description": "A query parameter is empty, repeated, not understood or out of range; nothing was done"}}


def sync_service(request: Request) -> SyncService:
    return request.app.state.sync_service


def snapshots(request: Request) -> SnapshotCache:
    return request.app.state.snapshots


def documented(*responses: dict[int, Any]) -> dict[int, Any]:
    merged: dict[int, Any] = {}
    for response in (UNAUTHORIZED, *responses):
        merged.update(response)
    return merged
