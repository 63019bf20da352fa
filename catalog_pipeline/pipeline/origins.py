"""Which hosts may receive a provider's requests (and so its key): the scheme, host and port of its
base URL, plus any origin its SPEC declares. Redirects and next-page links are checked here."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from .redact import MASK

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: no origin matches it
        return scheme, "", -1
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme)


def shown_url(url: str) -> str:
    """The URL for a message: no credentials, no fragment, the query string masked."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ":?"
    return f"{parts.scheme}://{host}{port}{parts.path}" + (f"?{MASK}" if parts.query else "")


class Origins:
    def __init__(self, base_url: str, extra: Iterable[str] = ()) -> None:
        self._allowed = [origin_of(base_url), *(origin_of(url) for url in extra)]

    def allow(self, url: str) -> bool:
        parts = urlsplit(url)
        # Credentials in a URL would be sent as Basic auth to whoever the URL names.
        return parts.username is None and origin_of(url) in self._allowed

    def __str__(self) -> str:
        return ", ".join(
            f"{scheme}://{host}" + ("" if port == DEFAULT_PORTS.get(scheme) else f":{port}")
            for scheme, host, port in self._allowed
        )
