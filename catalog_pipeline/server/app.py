"""The ASGI app `catalog-server` serves: /admin/... (the admin API, `admin_api.py`) and everything
else (the Dagster UI), all behind `AdminAuth`, with an access log that never shows query strings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Callable

from starlette.routing import Mount, Router
from starlette.types import ASGIApp

from .access_log import AccessLog
from .admin_api import create_admin_api
from .auth import AdminAuth
from .syncs import SyncService

ADMIN_PREFIX = "/admin"


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


@asynccontextmanager
async def _lifespan(app: object) -> AsyncIterator[None]:
    # Nothing to start: the process (cli.py) owns the daemon, the code server and the instance.
    yield


def create_server_app(
    admin_key: str, service: SyncService, ui_app: ASGIApp, redact: Callable[[str], str] = lambda text: text, **admin_options
) -> ASGIApp:
    """The whole server: Bearer everywhere, HTTP Basic too outside /admin (browsers, the UI)."""
    router = Router(
        routes=[Mount(ADMIN_PREFIX, app=create_admin_api(service, redact, **admin_options)), Mount("/", app=ui_app)],
        lifespan=_lifespan,
    )
    return AccessLog(AdminAuth(router, admin_key, basic_allowed=lambda path: not is_admin_path(path)), redact)
