"""One shared admin key in front of everything: a pure ASGI middleware for http and websocket.

`Authorization: Bearer <key>` everywhere (scheme case-insensitive, RFC 9110 §11.1); HTTP Basic
with the key as password (any user name) only where `basic_allowed(path)` says so (the UI, so a
browser can log in and its WebSocket handshakes carry the credentials). The candidate and the key
are both HMAC'd with a per-process salt and compared with `hmac.compare_digest`, so neither the
key's bytes nor its length leak through timing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from catalog_pipeline.settings import ADMIN_KEY_ENV_VAR

MIN_KEY_LENGTH = 16
REALM = "catalog-server"


class AdminKeyError(ValueError):
    """ADMIN_API_KEY is unusable; the message says why and never contains the key."""


def validate_admin_key(key: str | None) -> str:
    if not key:
        raise AdminKeyError(f"{ADMIN_KEY_ENV_VAR} is not set; catalog-server has no open mode and no default key")
    if len(key) < MIN_KEY_LENGTH:
        raise AdminKeyError(f"{ADMIN_KEY_ENV_VAR} is {len(key)} characters long; use at least {MIN_KEY_LENGTH}")
    if not all(33 <= ord(ch) <= 126 for ch in key):
        raise AdminKeyError(f"{ADMIN_KEY_ENV_VAR} must be printable ASCII without spaces (it travels in an HTTP header)")
    return key


def _credential(header: bytes, allow_basic: bool) -> bytes | None:
    scheme, _, rest = header.strip().partition(b" ")
    scheme, rest = scheme.lower(), rest.strip()
    if scheme == b"bearer" and rest:
        return rest
    if scheme == b"basic" and allow_basic and rest:
        try:
            decoded = base64.b64decode(rest, validate=True)
        except (binascii.Error, ValueError):
            return None
        _user, colon, password = decoded.partition(b":")
        return password if colon else None
    return None


class AdminAuth:
    def __init__(self, app: ASGIApp, key: str, *, basic_allowed: Callable[[str], bool] = lambda path: False) -> None:
        self.app = app
        self._salt = secrets.token_bytes(32)
        self._expected = self._digest(validate_admin_key(key).encode())
        self._basic_allowed = basic_allowed

    def _digest(self, value: bytes) -> bytes:
        return hmac.new(self._salt, value, hashlib.sha256).digest()

    def authorized(self, scope: Scope) -> bool:
        allow_basic = self._basic_allowed(scope.get("path", ""))
        headers = [value for name, value in scope.get("headers", []) if name == b"authorization"]
        if len(headers) != 1:
            return False
        candidate = _credential(headers[0], allow_basic)
        # Always run the comparison, so a malformed header costs the same as a wrong key.
        return hmac.compare_digest(self._digest(candidate or b""), self._expected) and candidate is not None

    def challenges(self, path: str) -> list[tuple[bytes, bytes]]:
        challenges = [(b"www-authenticate", f'Bearer realm="{REALM}"'.encode())]
        if self._basic_allowed(path):
            challenges.insert(0, (b"www-authenticate", f'Basic realm="{REALM}", charset="UTF-8"'.encode()))
        return challenges

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.authorized(scope):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"success": False, "message": "unauthorized: send Authorization: Bearer <ADMIN_API_KEY>"}).encode()
        headers = [
            *self.challenges(scope.get("path", "")),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
        ]
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 401, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        # WebSocket: answer the handshake with a 401 where the server supports it, else refuse (403).
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        if "websocket.http.response" in scope.get("extensions", {}):
            await send({"type": "websocket.http.response.start", "status": 401, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1008})
