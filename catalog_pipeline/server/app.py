"""The ASGI app `catalog-server` serves: /admin/... (the admin API) and everything else (the
Dagster UI), all behind `AdminAuth`."""

from __future__ import annotations

import asyncio
import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .auth import AdminAuth
from .openapi import openapi_document
from .change_feed import changes_page
from .status import (
    catalog_rows,
    catalog_status,
    default_stale_after_hours,
    expiring_models,
    list_providers,
    pending_price_changes,
)
from .syncs import Answer, SyncService

ADMIN_PREFIX = "/admin"
TRIGGER = "admin-api"


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


class BadRequest(Exception):
    pass


def _flag(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise BadRequest(f"{name} must be true or false")


def _scrub(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {_scrub(k, redact): _scrub(v, redact) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, redact) for v in value]
    return value


def create_admin_app(service: SyncService, redact: Callable[[str], str] = lambda text: text) -> Starlette:
    def respond(body: dict[str, Any], status_code: int = 200) -> Response:
        text = json.dumps(_scrub(body, redact), default=str)
        return Response(text, status_code=status_code, media_type="application/json", headers={"Cache-Control": "no-store"})

    def answer(result: Answer) -> Response:
        return respond(result.body, result.status_code)

    def tags(request: Request, endpoint: str) -> dict[str, str]:
        client = request.client.host if request.client else "unknown"
        return {"catalog/trigger": TRIGGER, "catalog/endpoint": endpoint, "catalog/client": client}

    async def providers(request: Request) -> Response:
        rows = await asyncio.to_thread(catalog_rows)
        return respond({"providers": list_providers(rows)})

    async def sync_provider(request: Request) -> Response:
        dry_run, wait = _flag(request, "dry_run", False), _flag(request, "wait", True)
        slug = request.path_params["slug"]
        return answer(await service.sync_provider(slug, dry_run=dry_run, wait=wait, tags=tags(request, "provider")))

    async def sync_all(request: Request) -> Response:
        dry_run, wait = _flag(request, "dry_run", False), _flag(request, "wait", True)
        return answer(await service.sync_all(dry_run=dry_run, wait=wait, tags=tags(request, "all")))

    async def status(request: Request) -> Response:
        raw = request.query_params.get("stale_after_hours")
        try:
            hours = float(raw) if raw else default_stale_after_hours()
        except ValueError:
            hours = -1.0
        if not hours > 0 or hours == float("inf"):
            raise BadRequest("stale_after_hours must be a positive number")

        def read() -> dict[str, Any]:
            return catalog_status(
                catalog_rows(), service.runs.last_run, stale_after_hours=hours, pending=pending_price_changes(),
                expiring=expiring_models(),
            )

        return respond(await asyncio.to_thread(read))

    async def changes(request: Request) -> Response:
        try:
            return respond(await asyncio.to_thread(changes_page, request.query_params.multi_items()))
        except ValueError as exc:
            raise BadRequest(str(exc)) from None

    async def openapi(request: Request) -> Response:
        return respond(openapi_document(_package_version()))

    async def bad_request(request: Request, exc: Exception) -> Response:
        return respond({"success": False, "message": str(exc)}, 400)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return respond({"success": False, "message": exc.detail}, exc.status_code)

    async def server_error(request: Request, exc: Exception) -> Response:
        return respond({"success": False, "message": f"internal error: {type(exc).__name__}"}, 500)

    return Starlette(
        routes=[
            Route("/admin/model-sync/providers", providers, methods=["GET"]),
            Route("/admin/model-sync/provider/{slug}", sync_provider, methods=["POST"]),
            Route("/admin/model-sync/all", sync_all, methods=["POST"]),
            Route("/admin/model-sync/status", status, methods=["GET"]),
            Route("/admin/model-sync/changes", changes, methods=["GET"]),
            Route("/admin/openapi.json", openapi, methods=["GET"]),
        ],
        exception_handlers={BadRequest: bad_request, HTTPException: http_error, Exception: server_error},
    )


class Dispatch:
    """/admin/... to the admin app, everything else to the UI. Answers lifespan itself: neither
    app needs startup work, and the process (cli.py) owns the daemon and the code server."""

    def __init__(self, admin_app: ASGIApp, ui_app: ASGIApp) -> None:
        self.admin_app = admin_app
        self.ui_app = ui_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        app = self.admin_app if is_admin_path(scope.get("path", "")) else self.ui_app
        await app(scope, receive, send)


def create_server_app(
    admin_key: str, service: SyncService, ui_app: ASGIApp, redact: Callable[[str], str] = lambda text: text
) -> ASGIApp:
    """The whole server: Bearer everywhere, HTTP Basic too outside /admin (browsers, the UI)."""
    dispatch = Dispatch(create_admin_app(service, redact), ui_app)
    return AdminAuth(dispatch, admin_key, basic_allowed=lambda path: not is_admin_path(path))


def _package_version() -> str:
    try:
        return version("model-catalog-sync")
    except PackageNotFoundError:
        return "0"
