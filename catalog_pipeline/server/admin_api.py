"""The admin API under /admin: a FastAPI app assembled from the route modules in `routes/`.

FastAPI derives the OpenAPI document from the routes, their parameters and their response models,
so the document cannot drift from what the API does. Every answer is JSON with secrets masked and
`Cache-Control: no-store`; errors keep the API's one shape, `{"success": false, "message": ...}`.
"""

from __future__ import annotations

import json
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable, Iterable

from fastapi import FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from starlette.exceptions import HTTPException

from .routes import ROUTERS
from .status import SNAPSHOT_TTL_SECONDS, SnapshotCache, read_snapshot
from .syncs import SyncService

Redact = Callable[[str], str]

# Documents the key in OpenAPI; `AdminAuth` in front of the whole server is what enforces it.
ADMIN_KEY_SCHEME = HTTPBearer(scheme_name="adminKey", description="ADMIN_API_KEY as a Bearer token", auto_error=False)


def create_admin_api(
    service: SyncService,
    redact: Redact = lambda text: text,
    *,
    snapshot_ttl: float = SNAPSHOT_TTL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    response_class = redacting_json_response(redact)
    app = FastAPI(
        title="model-catalog-sync admin API",
        version=package_version(),
        description="Sync providers' model lists into the catalog and read its status. "
                    "Every route needs `Authorization: Bearer <ADMIN_API_KEY>`.",
        openapi_url=None, docs_url=None, redoc_url=None,  # served by routes/docs.py, behind the key
        default_response_class=response_class,
        dependencies=[Security(ADMIN_KEY_SCHEME)],
    )
    app.state.sync_service = service
    app.state.snapshots = SnapshotCache(lambda: read_snapshot(service.runs.last_runs), snapshot_ttl, clock)
    for router in ROUTERS:
        app.include_router(router)

    def error(status_code: int, message: str) -> JSONResponse:
        return response_class({"success": False, "message": message}, status_code=status_code)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return error(exc.status_code, str(exc.detail))

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [f"{'.'.join(str(part) for part in e['loc'][1:]) or e['loc'][0]}: {e['msg']}" for e in exc.errors()]
        return error(400, "; ".join(problems) or "invalid request")

    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        return error(500, f"internal error: {type(exc).__name__}")

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, server_error)
    return app


def redacting_json_response(redact: Redact) -> type[JSONResponse]:
    """Answers serialized to JSON text, then masked in one pass (build `redact` from
    `with_json_forms(secrets)` so a secret that JSON escapes is masked too)."""

    class RedactedJSONResponse(JSONResponse):
        def __init__(self, content: Any, status_code: int = 200, headers: dict[str, str] | None = None, **kwargs: Any) -> None:
            super().__init__(content, status_code, {"Cache-Control": "no-store", **(headers or {})}, **kwargs)

        def render(self, content: Any) -> bytes:
            return redact(json.dumps(content, default=str)).encode()

    return RedactedJSONResponse


def with_json_forms(secrets: Iterable[str]) -> list[str]:
    """Each secret as written, and as it appears inside a JSON string (quotes, backslashes and
    non-ASCII characters escaped)."""
    return sorted({form for secret in secrets if secret for form in (secret, json.dumps(secret)[1:-1])})


def package_version() -> str:
    try:
        return version("model-catalog-sync")
    except PackageNotFoundError:
        return "0"
