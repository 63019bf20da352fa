"""One access-log line per HTTP request, with the path only: uvicorn's own access log prints the
query string, and a client that puts a key there (wrongly) must not get it written to the log."""

from __future__ import annotations

import logging
from typing import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "catalog_server.access"


class AccessLog:
    def __init__(self, app: ASGIApp, redact: Callable[[str], str] = lambda text: text) -> None:
        self.app = app
        self._redact = redact
        self._log = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            client = scope.get("client")
            self._log.info('%s - "%s %s" %d', f"{client[0]}:{client[1]}" if client else "-", scope.get("method", ""),
                           self._redact(scope.get("path", "")), status)
