"""HTTP policy for every provider: timeouts, bounded retries with backoff, strict JSON decoding.

Adapters only say which URL to get; this module decides how long to wait, when to retry
(connection errors, timeouts, 429 and 5xx, honouring `Retry-After`), and turns every failure
into a `ProviderFetchError` whose message names the cause and never contains a secret.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

import httpx

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class ProviderFetchError(Exception):
    """The provider's model list could not be fetched or decoded; the message says why."""


@dataclass(frozen=True)
class HttpPolicy:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 4
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    # Upper bound on all attempts of one request together, sleeping included.
    total_budget: float = 180.0


@dataclass
class FetchedPage:
    url: str
    status: int
    body: bytes
    payload: Any
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


def decode_json(body: bytes, *, url: str, content_type: str = "") -> Any:
    """Decode a model-list body; numbers with a fraction become exact Decimals."""
    text = body.decode("utf-8-sig", errors="replace")
    stripped = text.lstrip()
    if not stripped:
        raise ProviderFetchError(f"empty response body from {url}")
    if "html" in content_type.lower() or stripped[:1] == "<":
        raise ProviderFetchError(
            f"expected JSON from {url} but got an HTML page"
            f" (content-type {content_type or 'unset'}): {_snippet(stripped)}"
        )
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ProviderFetchError(
            f"invalid JSON from {url} ({len(body)} bytes, possibly truncated): {exc}"
        ) from None


class ProviderHttp:
    """GETs JSON from one provider's API root with the pipeline's retry policy."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: dict[str, str],
        policy: HttpPolicy,
        secrets: tuple[str, ...] = (),
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self._secrets = tuple(s for s in secrets if s)
        self._sleep = sleep
        self._client = httpx.Client(
            headers={"Accept": "application/json", "User-Agent": "model-catalog-sync", **headers},
            timeout=httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout),
            follow_redirects=True,
            transport=transport,
        )

    def __enter__(self) -> "ProviderHttp":
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def url_for(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.base_url + "/" + path_or_url.lstrip("/")

    def get_json(self, path_or_url: str, params: dict[str, Any] | None = None) -> FetchedPage:
        try:
            return self._get_json(self.url_for(path_or_url), params)
        except ProviderFetchError as exc:
            raise ProviderFetchError(self.redact(str(exc))) from None

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _get_json(self, url: str, params: dict[str, Any] | None) -> FetchedPage:
        policy = self.policy
        started = time.monotonic()
        delay = policy.backoff_initial
        last_problem = "no attempt made"
        for attempt in range(1, policy.max_attempts + 1):
            wait: float | None = None
            try:
                # httpx drops a URL's own query when given empty params: a next-page link keeps it.
                response = self._client.get(url, params=params or None)
                body = response.read()
            except httpx.TimeoutException as exc:
                last_problem = f"timed out ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last_problem = f"connection failed ({type(exc).__name__}: {exc})"
            else:
                shown_url = str(response.url)
                if response.is_success:
                    payload = decode_json(
                        body, url=shown_url, content_type=response.headers.get("content-type", "")
                    )
                    return FetchedPage(url=shown_url, status=response.status_code, body=body, payload=payload)
                last_problem = f"HTTP {response.status_code} {response.reason_phrase}: {_snippet(body)}"
                if response.status_code not in RETRYABLE_STATUS:
                    raise ProviderFetchError(f"{last_problem} from {shown_url}")
                wait = _retry_after_seconds(response.headers.get("retry-after"))
            if attempt == policy.max_attempts:
                break
            if wait is None:  # no Retry-After: exponential backoff with jitter
                wait = min(delay, policy.backoff_max) * (0.5 + random.random() / 2)
                delay *= 2
            # A Retry-After past the budget is a "not today": give up now rather than hammer early.
            if time.monotonic() - started + wait > policy.total_budget:
                raise ProviderFetchError(
                    f"{last_problem} from {url}; gave up after {attempt} attempts"
                    f" (retry budget of {policy.total_budget:g}s exhausted)"
                )
            self._sleep(wait)
        raise ProviderFetchError(f"{last_problem} from {url} after {policy.max_attempts} attempts")


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


def _snippet(body: bytes | str, limit: int = 160) -> str:
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return repr(text[:limit] + ("…" if len(text) > limit else ""))
