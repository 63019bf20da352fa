"""GET /admin/openapi.json and GET /admin/docs: the OpenAPI document FastAPI derives from the
routes, and a human-readable reference generated from it. Both behind the key, like every route."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..api_reference import CONTENT_SECURITY_POLICY, render_reference

router = APIRouter()


def openapi_document(request: Request) -> dict[str, Any]:
    """FastAPI's document, with each path as a client calls it (under the /admin mount)."""
    document = dict(request.app.openapi())
    mount = request.scope.get("root_path", "").rstrip("/")
    document["paths"] = {mount + path: operations for path, operations in document["paths"].items()}
    return document


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> dict[str, Any]:
    return openapi_document(request)


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse)
async def docs(request: Request) -> HTMLResponse:
    return HTMLResponse(
        render_reference(openapi_document(request)),
        headers={"Cache-Control": "no-store", "Content-Security-Policy": CONTENT_SECURITY_POLICY},
    )
