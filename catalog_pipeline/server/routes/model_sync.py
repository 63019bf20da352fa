"""POST /admin/model-sync/provider/{slug} and POST /admin/model-sync/all: launch syncs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from ..params import flag
from ..schemas import ErrorAnswer, SyncAllAnswer, SyncAnswer
from ..syncs import Answer
from .common import BAD_QUERY, documented, snapshots, sync_service

TRIGGER = "admin-api"

router = APIRouter(prefix="/model-sync", tags=["sync"])

dry_run_flag = flag("dry_run", False, "Compute and return the diff; write nothing.")
wait_flag = flag("wait", True, "Wait for the run to finish; false answers 202 with the run id at once.")


def run_tags(request: Request, endpoint: str) -> dict[str, str]:
    client = request.client.host if request.client else "unknown"
    return {"catalog/trigger": TRIGGER, "catalog/endpoint": endpoint, "catalog/client": client}


def respond(request: Request, response: Response, answer: Answer) -> dict[str, Any]:
    snapshots(request).invalidate()  # /status shows this run from now on
    response.status_code = answer.status_code
    return answer.body


@router.post(
    "/provider/{slug}",
    summary="Sync one provider",
    response_model=SyncAnswer,
    response_model_exclude_unset=True,
    responses=documented(BAD_QUERY, {
        202: {"model": SyncAnswer, "description": "`wait=false` (queued), or the run was still going when the wait ended"},
        404: {"model": SyncAnswer, "description": "Unknown provider slug; `details.known_providers` lists them"},
        409: {"model": SyncAnswer, "description": "A run of this provider is already queued or running"},
        422: {"model": SyncAnswer, "description": "Skipped: the provider needs a key that is not set"},
        500: {"model": SyncAnswer, "description": "The run failed; `message` names the cause"},
        503: {"model": SyncAnswer, "description": "Dagster could not launch the run"},
    }),
)
async def sync_provider(
    slug: str,
    request: Request,
    response: Response,
    dry_run: bool = Depends(dry_run_flag),
    wait: bool = Depends(wait_flag),
) -> dict[str, Any]:
    answer = await sync_service(request).sync_provider(slug, dry_run=dry_run, wait=wait, tags=run_tags(request, "provider"))
    return respond(request, response, answer)


@router.post(
    "/all",
    summary="Sync every provider (one run each)",
    response_model=SyncAllAnswer,
    response_model_exclude_unset=True,
    responses=documented(BAD_QUERY, {202: {"model": SyncAllAnswer, "description": "`wait=false`: runs queued"},
                                     500: {"model": ErrorAnswer, "description": "Internal error"}}),
)
async def sync_all(
    request: Request,
    response: Response,
    dry_run: bool = Depends(dry_run_flag),
    wait: bool = Depends(wait_flag),
) -> dict[str, Any]:
    answer = await sync_service(request).sync_all(dry_run=dry_run, wait=wait, tags=run_tags(request, "all"))
    return respond(request, response, answer)
