"""HTTP policy for every provider: timeouts, bounded retries with backoff, strict JSON decoding.

Adapters only say which URL to get; this module decides how long to wait, when to retry
(connection errors, timeouts, 429 and 5xx, honouring `Retry-After`), where a request may go
(redirects are followed here, only within the provider's origins: `origins.py`), how much is read
(`body.py`), and turns every failure into a `ProviderFetchError` whose message names the cause and
never contains a secret.
"""

from __future__ import annotations

import email.utils
import functools
import json
import random
import re
import ssl
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import urljoin

import httpx

from .body import ACCEPTED_ENCODINGS, MAX_PROVIDER_VALUES, DeadlinePassed, DeadlineWatch, MiB, ReadBudget, read_body
from .errors import ProviderFetchError
from .origins import Origins, shown_url
from .packed import KEEP_RAW, Packed, Spool
from .redact import NO_SECRETS, Redactor

__all__ = ["FetchedPage", "HttpPolicy", "ProviderFetchError", "ProviderHttp", "decode_json"]

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
ERROR_SNIPPET_BYTES = 16 * 1024  # how much of an error body is read, for its message
_FIRST_CHARACTER = re.compile(r"\S")
# A page is whole in memory only while it is decoded: its bytes, then its text, then its objects.
# Fetches run in threads; one page decoded at a time keeps that peak to one page. json.loads holds
# the GIL throughout anyway, so nothing that could run in parallel waits here.
_ONE_PAGE_DECODED_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class HttpPolicy:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 4
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    # One wall-clock deadline per provider: connect, retries and their sleeps, slow bodies, all pages.
    deadline: float = 180.0
    max_page_bytes: int = 64 * MiB
    max_provider_bytes: int = 256 * MiB
    max_provider_values: int = MAX_PROVIDER_VALUES


_UNDECODED = object()


@dataclass
class FetchedPage:
    """One page as received, its body held deflated. Its decoded `payload` can be let go while paging
    goes on and is decoded again when next asked for: the body must stay (it is archived), two
    copies of every page need not."""

    url: str
    status: int
    packed: Packed = field(repr=False)
    decoded: Any = field(default=_UNDECODED, repr=False)
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @classmethod
    def of(cls, url: str, status: int, body: bytes, **rest: Any) -> "FetchedPage":
        return cls(url, status, Packed.of(body), **rest)

    @property
    def body(self) -> bytes:
        """Unpacked anew at each use: keep it no longer than needed."""
        return self.packed.unpack()

    @property
    def size(self) -> int:
        return self.packed.size

    @property
    def payload(self) -> Any:
        if self.decoded is _UNDECODED:
            self.decoded = decode_json(self.body, url=self.url)
        return self.decoded

    def release_payload(self) -> None:
        self.decoded = _UNDECODED


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings every provider's client shares, built once per process as httpx builds its
    default (SSL_CERT_FILE, SSL_CERT_DIR, else certifi's bundle): loading the bundle took 20 ms per
    client here, and each provider's fetch opens one. A forked fetch process inherits it."""
    return httpx.create_ssl_context()


def decode_json(body: bytes, *, url: str, content_type: str = "") -> Any:
    """Decode a model-list body; numbers with a fraction become exact Decimals."""
    return parse_json(json_text(body, url=url, content_type=content_type), url=url, size=len(body))


def json_text(body: bytes, *, url: str, content_type: str = "") -> str:
    """The body as text, refused when empty or HTML (no copy of it beyond the text itself)."""
    text = body.decode("utf-8-sig", errors="replace")
    first = _FIRST_CHARACTER.search(text)
    if first is None:
        raise ProviderFetchError(f"empty response body from {url}")
    if "html" in content_type.lower() or text[first.start()] == "<":
        raise ProviderFetchError(
            f"expected JSON from {url} but got an HTML page"
            f" (content-type {content_type or 'unset'}): {_snippet(text[first.start():first.start() + 4096])}"
        )
    return text


def parse_json(text: str, *, url: str, size: int) -> Any:
    """Numbers with a fraction become exact Decimals. `size`: the body's bytes, for the message."""
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ProviderFetchError(
            f"invalid JSON from {url} ({size} bytes, possibly truncated): {exc}"
        ) from None
    except RecursionError:  # `[[[[...` a few thousand deep: small in bytes, beyond the decoder's stack
        raise ProviderFetchError(f"JSON from {url} is nested too deeply to decode ({size} bytes)") from None


class ProviderHttp:
    """GETs JSON from one provider's API root with the pipeline's retry policy, sending requests
    only to the provider's own origin, within its byte caps and deadline. What it returns has every
    configured secret masked."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: dict[str, str],
        policy: HttpPolicy,
        redactor: Redactor = NO_SECRETS,
        extra_origins: tuple[str, ...] = (),
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.redact = redactor
        self._origins = Origins(self.base_url, extra_origins)
        self._budget = ReadBudget(policy.max_page_bytes, policy.max_provider_bytes, policy.max_provider_values)
        self._spool = Spool()  # outlives this client: the pages refer to it until they are archived
        self._deadline = time.monotonic() + policy.deadline
        self._watch = DeadlineWatch(self._deadline)
        self._sleep = sleep
        self._client = httpx.Client(
            headers={
                "Accept": "application/json",
                "Accept-Encoding": ACCEPTED_ENCODINGS,
                "User-Agent": "model-catalog-sync",
                **headers,
            },
            follow_redirects=False,
            transport=transport,
            verify=tls_context(),
        )

    def __enter__(self) -> "ProviderHttp":
        return self

    def __exit__(self, *exc: object) -> None:
        self._watch.close()
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

    def _remaining(self) -> float:
        return self._deadline - time.monotonic()

    def _deadline_error(self, when: str) -> ProviderFetchError:
        return ProviderFetchError(f"the provider's deadline of {self.policy.deadline:g}s passed {when}")

    def _get_json(self, url: str, params: dict[str, Any] | None) -> FetchedPage:
        policy = self.policy
        self._refuse_foreign(url, "a request to")
        delay = policy.backoff_initial
        last_problem = "no attempt made"
        for attempt in range(1, policy.max_attempts + 1):
            if self._remaining() <= 0:
                raise self._deadline_error(f"before requesting {url}")
            wait: float | None = None
            try:
                response = self._open(url, params)
                try:
                    page = self._read(response)
                finally:
                    response.close()
            except httpx.TimeoutException as exc:
                last_problem = f"timed out ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last_problem = f"connection failed ({type(exc).__name__}: {exc})"
            else:
                if page.status < 300:
                    return page
                last_problem = f"HTTP {response.status_code} {response.reason_phrase}: {_snippet(page.body)}"
                if response.status_code not in RETRYABLE_STATUS:
                    raise ProviderFetchError(f"{last_problem} from {page.url}")
                wait = _retry_after_seconds(response.headers.get("retry-after"))
            if self._remaining() <= 0:
                raise self._deadline_error(f"after {last_problem} from {url}")
            if attempt == policy.max_attempts:
                break
            if wait is None:  # no Retry-After: exponential backoff with jitter
                wait = min(delay, policy.backoff_max) * (0.5 + random.random() / 2)
                delay *= 2
            # A Retry-After past the deadline is a "not today": give up now rather than hammer early.
            if wait > self._remaining():
                raise ProviderFetchError(
                    f"{last_problem} from {url}; gave up after {attempt} attempts"
                    f" (retry budget of {policy.deadline:g}s exhausted)"
                )
            self._sleep(wait)
        raise ProviderFetchError(f"{last_problem} from {url} after {policy.max_attempts} attempts")

    def _open(self, url: str, params: dict[str, Any] | None) -> httpx.Response:
        """Send the GET, following redirects only within the allowed origins."""
        if params:  # merged into the URL's own query: httpx would replace that query with `params`
            url = str(httpx.URL(url).copy_merge_params(params))
        for _ in range(MAX_REDIRECTS + 1):
            remaining = max(0.001, self._remaining())
            timeout = httpx.Timeout(
                min(self.policy.read_timeout, remaining), connect=min(self.policy.connect_timeout, remaining)
            )
            request = self._client.build_request("GET", url, timeout=timeout)
            response = self._client.send(request, stream=True)
            location = response.headers.get("location")
            if response.status_code not in REDIRECT_STATUS or not location:
                return response
            response.close()
            url = urljoin(str(response.url), location)
            self._refuse_foreign(url, f"a redirect from {shown_url(str(response.url))} to")
        raise ProviderFetchError(f"more than {MAX_REDIRECTS} redirects from {shown_url(url)}")

    def _refuse_foreign(self, url: str, what: str) -> None:
        if not self._origins.allow(url):
            raise ProviderFetchError(
                f"refused {what} {shown_url(url)}: outside the provider's origin ({self._origins});"
                " its key is only sent there (a SPEC may declare extra_origins)"
            )

    def _read(self, response: httpx.Response) -> FetchedPage:
        url = str(response.url)
        try:
            packed = read_body(
                response, self._budget, deadline=self._deadline,
                snippet_only=0 if response.is_success else ERROR_SNIPPET_BYTES, watch=self._watch,
            )
        except DeadlinePassed:
            raise self._deadline_error(f"while reading the body of {url}") from None
        except httpx.TimeoutException:
            if self._remaining() <= 0:
                raise self._deadline_error(f"while reading the body of {url}") from None
            raise
        shown = self.redact(url)
        # A small page takes no turn: its peak is small, and a fetch of many small pages (fal's
        # prices, 50 models a call) would wait at each one for another thread's large page.
        with _ONE_PAGE_DECODED_AT_A_TIME if packed.size > KEEP_RAW else nullcontext():
            body = packed.unpack()
            masked = self.redact.bytes(body)
            # Only what is masked is kept, and only that may wait on disk.
            packed = Packed.of(masked, self._spool) if masked is not body else packed.spooled(self._spool)
            del body
            if not response.is_success:
                return FetchedPage(url=shown, status=response.status_code, packed=packed, decoded=None)
            text = json_text(masked, url=shown, content_type=response.headers.get("content-type", ""))
            del masked  # the text alone stays while the objects are built
            payload = parse_json(text, url=shown, size=packed.size)
            escaped = "\\u" in text or "\\/" in text
            del text
        if escaped and self.redact.found_in(payload):
            raise ProviderFetchError(
                f"the answer from {shown} carries a configured key in JSON-escaped form; nothing of it is kept"
            )
        return FetchedPage(url=shown, status=response.status_code, packed=packed, decoded=payload)


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
