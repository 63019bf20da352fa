"""Reading a response body within bounds: bytes received and bytes after decompression are capped
per page and per provider (each counted on its own), and a provider's deadline cuts a body that is
still streaming. Decompression is done here, in bounded steps, so a gzip bomb never expands in memory
beyond the cap.

A body is deflated once past its first 64 KiB (`packed.py`): a stream cut at a cap never was whole in
memory.
Byte caps do not bound what a body becomes once decoded (64 MiB of `[{},{},...]` is some 1.5 GiB
of Python objects), so the JSON values arriving are counted too, against `max_provider_values`."""

from __future__ import annotations

import socket
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from .errors import ProviderFetchError
from .packed import Packed, Packer

MiB = 1024 * 1024
PIECE = MiB  # most decompressed bytes produced by one step
ACCEPTED_ENCODINGS = "gzip, deflate"  # sent as Accept-Encoding: the only ones decoded here
# About 4x the largest list known (Featherless, ~22k models, ~270k values in ~8 MB) and, decoded,
# at most about 150 MiB of objects (~150 bytes per value at worst, e.g. `{"a":0.5}`).
MAX_PROVIDER_VALUES = 1_000_000


@dataclass
class ReadBudget:
    """One provider's byte counters and limits, shared by all of its pages."""

    max_page_bytes: int
    max_provider_bytes: int
    max_provider_values: int = MAX_PROVIDER_VALUES
    received: int = 0
    decoded: int = 0
    values: int = 0


class DeadlinePassed(Exception):
    """The provider's deadline passed while a body was streaming."""


def read_body(
    response: httpx.Response, budget: ReadBudget, *, deadline: float, snippet_only: int = 0, watch: "DeadlineWatch | None" = None
) -> Packed:
    """The decoded body. `snippet_only` > 0: an error body, read up to that many bytes and cut there.
    `watch`: the provider's DeadlineWatch (unset: one for this body alone)."""
    if watch is None:
        with DeadlineWatch(deadline) as own:
            return read_body(response, budget, deadline=deadline, snippet_only=snippet_only, watch=own)
    decoder = _decoder_for(response.headers.get("content-encoding", ""), str(response.url))
    out = Packer()  # in memory: nothing unmasked goes to disk, not even to an unnamed file
    page_received = page_decoded = 0
    with watch.reading(response) as watchdog:
        try:
            for raw in response.iter_raw():
                page_received += len(raw)
                budget.received += len(raw)
                _check(page_received, budget.received, budget, "received", str(response.url))
                for piece in decoder(raw):
                    page_decoded += len(piece)
                    budget.decoded += len(piece)
                    if snippet_only and page_decoded >= snippet_only:
                        out.write(piece[: snippet_only - page_decoded + len(piece)])
                        return out.packed()
                    _check(page_decoded, budget.decoded, budget, "after decompression", str(response.url))
                    _count_values(piece, budget, str(response.url))
                    out.write(piece)
                if time.monotonic() >= deadline:
                    raise DeadlinePassed
        except httpx.TransportError:
            if watchdog.fired:
                raise DeadlinePassed from None
            raise
    tail = decoder.flush()
    budget.decoded += len(tail)
    _check(page_decoded + len(tail), budget.decoded, budget, "after decompression", str(response.url))
    _count_values(tail, budget, str(response.url))
    out.write(tail)
    return out.packed()


def _check(page: int, provider: int, budget: ReadBudget, what: str, url: str) -> None:
    if page > budget.max_page_bytes:
        raise ProviderFetchError(
            f"{url}: one page went over {_size(budget.max_page_bytes)} {what} (max_page_bytes); stopped reading"
        )
    if provider > budget.max_provider_bytes:
        raise ProviderFetchError(
            f"{url}: the provider's pages went over {_size(budget.max_provider_bytes)} {what}"
            " in all (max_provider_bytes); stopped reading"
        )


def _count_values(piece: bytes, budget: ReadBudget, url: str) -> None:
    # Every JSON value but the outermost follows a `[`, `{` or `,`: their count bounds the values
    # (those inside strings only make it a little larger), without decoding anything.
    budget.values += piece.count(b",") + piece.count(b"[") + piece.count(b"{")
    if budget.values > budget.max_provider_values:
        raise ProviderFetchError(
            f"{url}: the provider's pages hold over {budget.max_provider_values:,} JSON values in all"
            " (max_provider_values); stopped reading: that many values would take far more memory"
            " decoded than their bytes"
        )


def _size(n: int) -> str:
    return f"{n / MiB:g} MiB" if n >= MiB else f"{n} bytes"


def _decoder_for(content_encoding: str, url: str):
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip().lower() not in ("", "identity")]
    if not codings:
        return _Identity()
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return _Inflater(url)
    raise ProviderFetchError(f"{url}: unsupported Content-Encoding {content_encoding!r} (accepted: {ACCEPTED_ENCODINGS})")


class _Identity:
    def __call__(self, raw: bytes) -> list[bytes]:
        return [raw] if raw else []

    def flush(self) -> bytes:
        return b""


class _Inflater:
    """gzip or zlib-wrapped deflate, at most PIECE bytes of output per step."""

    def __init__(self, url: str) -> None:
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32)  # 32: detect the gzip or zlib header
        self._url = url

    def __call__(self, raw: bytes) -> Iterator[bytes]:
        data = raw
        while data and not self._zlib.eof:
            try:
                piece = self._zlib.decompress(data, PIECE)
            except zlib.error as exc:
                raise ProviderFetchError(f"{self._url}: the compressed body is corrupt ({exc})") from None
            data = self._zlib.unconsumed_tail
            if piece:
                yield piece

    def flush(self) -> bytes:
        # What inflate still holds is at most its window (32 KiB), whatever the stream claims.
        try:
            return self._zlib.flush()
        except zlib.error as exc:
            raise ProviderFetchError(f"{self._url}: the compressed body is corrupt ({exc})") from None


class DeadlineWatch:
    """At the provider's deadline, shut the socket of the body then being read, which wakes a read
    blocked on a silent stream. One timer thread for all of a provider's pages, not one per page:
    starting and stopping a thread passes the GIL back and forth several times, and with the main
    thread busy (other providers' runs) each pass waits its turn, which made fal's 400 small pages
    markedly slower during a sync than alone."""

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._response: httpx.Response | None = None
        self.fired = False

    def __enter__(self) -> "DeadlineWatch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the timer: the provider's pages are all read."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    @contextmanager
    def reading(self, response: httpx.Response) -> Iterator["DeadlineWatch"]:
        with self._lock:
            if self._timer is None and not self.fired:
                self._timer = threading.Timer(max(0.0, self._deadline - time.monotonic()), self._cut)
                self._timer.daemon = True
                self._timer.start()
            self._response = response
        try:
            yield self
        finally:
            with self._lock:
                self._response = None

    def _cut(self) -> None:
        with self._lock:
            self.fired = True
            response = self._response
        if response is None:
            return
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
