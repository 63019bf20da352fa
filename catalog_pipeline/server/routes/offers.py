"""GET /admin/model-sync/offers?model=...: who sells a model, cheapest first (see db/offers.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.exceptions import HTTPException

from ..offers import MAX_QUERY_LENGTH, BadOffersQuery, offers_answer
from ..params import BadRequest
from ..schemas import ErrorAnswer, OffersAnswer
from .common import BAD_QUERY, documented

router = APIRouter(prefix="/model-sync", tags=["catalog"])
NO_MATCH = {404: {"model": ErrorAnswer, "description": "No canonical model matches the query"}}


@router.get(
    "/offers",
    summary="Every active offer of one model across providers, cheapest first (input x 3 + output; unknown prices last)",
    response_model=OffersAnswer,
    responses=documented(BAD_QUERY, NO_MATCH),
)
async def offers(
    request: Request,
    model: str | None = Query(None, description=f"A Hugging Face id, a provider's model id, or words such as"
                              f" 'llama 3.3 70b' (at most {MAX_QUERY_LENGTH} characters)."),
) -> dict[str, Any]:
    given = request.query_params.getlist("model")
    if len(given) > 1:
        raise BadRequest(f"model is given {len(given)} times; give it once")
    try:
        status, body = await asyncio.to_thread(offers_answer, model)
    except BadOffersQuery as exc:
        raise BadRequest(str(exc)) from None
    if status == 404:
        raise HTTPException(status_code=404, detail=body["message"])
    return body
