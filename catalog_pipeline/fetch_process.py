"""A sync worker's provider fetches, in processes of their own.

The worker's runs hold its interpreter lock for long stretches (pandas, JSON, Dagster's
bookkeeping). A fetch thread beside them waits for the lock at every request, and a provider that
pages sequentially makes hundreds (fal asks for its prices 50 models at a time): seen here, fal's
404 requests at 20,000 models ended 4 s later beside nine runs than alone. Fetch threads beside
one another wait the same way, for as long as each decodes a large body (the JSON decoder lets go
of the lock only at the end): 1.3 s over fal's first 90 requests beside nine providers' lists of
20,000 models. So each provider is fetched in a forked child of its own, where it waits for
nothing but the network. The children start in the order given, at most `max_workers` at a time:
the next one as soon as one has its list.

The children are forked before the worker starts any thread, fetch with the same client, policy and
redactor as in-process fetches (`provider_calls.fetch_provider`), and each sends its list back page
by page over a pipe of its own (pickled, each page's body as held: deflated unless small) once the
whole list is in, or the list's error. Pickle is safe here: both ends are this program, and a
provider's bytes cross only as bytes. The parent resolves one Future per provider as each list
arrives; a child that ends early fails its list with its exit code.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import threading
from collections.abc import Iterable
from concurrent.futures import Future
from typing import Any

from catalog_pipeline.pipeline.errors import ProviderFetchError
from catalog_pipeline.pipeline.http import FetchedPage, HttpPolicy, tls_context
from catalog_pipeline.pipeline.packed import Packed, Spool
# Imported here, not in the child: the worker imports the adapters while it waits for its share.
from catalog_pipeline.provider_calls import fetch_provider
from catalog_pipeline.settings import CatalogSettings

_HEADER = struct.Struct("!Q")  # the length of the pickled message that follows


class FetchProcess:
    """`with FetchProcess(slugs, policy, settings, max_workers=n) as fetching:` forks a child per
    slug that fetches it; `fetching.futures[slug]` holds each list (or raises its error) and
    `fetching.pids[slug]` the child's pid."""

    def __init__(self, slugs: Iterable[str], policy: HttpPolicy, settings: CatalogSettings, *,
                 max_workers: int, close_in_child: Iterable[int] = ()) -> None:
        """`close_in_child`: descriptors the children must not hold open (a pipe whose reader waits
        for its end: the worker's report)."""
        slugs = list(slugs)
        if slugs and threading.active_count() > 1:
            # A fork copies every lock as it stands, and only this thread: a lock another thread
            # holds now would never be let go in the child.
            raise RuntimeError(f"FetchProcess forks, so it must start before any thread does ({threading.active_count()} are running)")
        self.futures: dict[str, Future] = {}
        for slug in slugs:
            future: Future = Future()
            future.set_running_or_notify_cancel()  # under way: like a pool's running fetch, not cancellable
            self.futures[slug] = future
        self.pids: dict[str, int] = {}
        self._exit_codes: dict[str, int] = {}
        self._readers: list[threading.Thread] = []
        # Each child waits for a byte on its start pipe: they start in order, at most `max_workers`
        # at a time, the next one as soon as one has its list (or ends).
        self._start_ends: dict[str, int] = {}
        self._not_started: list[str] = []
        self._starting = threading.Lock()
        if not slugs:
            return
        tls_context()  # built once here, inherited by every child
        read_ends: dict[str, int] = {}
        for slug in slugs:
            read_end, write_end = os.pipe()
            start_read, start_write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: fetch, send, and leave without the parent's exit handlers
                code = 1
                try:
                    for descriptor in (read_end, start_write, *read_ends.values(), *self._start_ends.values(), *close_in_child):
                        os.close(descriptor)
                    if os.read(start_read, 1):  # nothing: the parent has closed it, the list is not wanted
                        _fetch_and_send(slug, policy, settings, write_end)
                    code = 0
                finally:
                    os._exit(code)
            os.close(write_end)
            os.close(start_read)
            self.pids[slug] = pid
            read_ends[slug] = read_end
            self._start_ends[slug] = start_write
            self._not_started.append(slug)
            if len(self.pids) <= max(1, max_workers):  # the first ones start while the rest are forked
                self._start_next()
        for slug, read_end in read_ends.items():
            reader = threading.Thread(target=self._receive, args=(slug, read_end), name=f"fetch-{slug}", daemon=True)
            reader.start()
            self._readers.append(reader)

    def _start_next(self) -> None:
        with self._starting:
            if self._not_started:
                slug = self._not_started.pop(0)
                start_write = self._start_ends.pop(slug)
                try:
                    os.write(start_write, b".")
                except OSError:  # the child has gone: its reader fails its list
                    pass
                os.close(start_write)

    def __enter__(self) -> "FetchProcess":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops the children still fetching (nobody waits for their lists any more); those not
        started yet leave without a request."""
        with self._starting:
            self._not_started = []
            for start_write in self._start_ends.values():
                os.close(start_write)
            self._start_ends = {}
        for slug, pid in self.pids.items():
            if slug not in self._exit_codes:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for reader in self._readers:
            reader.join()
        for slug in self.pids:
            self._reap(slug)

    def _reap(self, slug: str) -> int:
        if slug not in self._exit_codes:
            _, status = os.waitpid(self.pids[slug], 0)
            self._exit_codes[slug] = os.waitstatus_to_exitcode(status)
        return self._exit_codes[slug]

    def _receive(self, slug: str, read_end: int) -> None:
        pages: list[FetchedPage] = []
        spool = Spool()
        future = self.futures[slug]
        with os.fdopen(read_end, "rb") as pipe:
            while header := pipe.read(_HEADER.size):
                message = pipe.read(_HEADER.unpack(header)[0]) if len(header) == _HEADER.size else b""
                try:
                    kind, *rest = pickle.loads(message)
                except Exception:  # noqa: BLE001 - cut short: the child ended mid-message
                    break
                if kind in ("fetched", "failed"):
                    self._start_next()  # its requests are over
                if kind == "page":
                    url, status, fetched_at, held, size, deflated = rest
                    # A large body goes to disk, as in-process fetches keep it (packed.py).
                    packed = Packed.of_portable(held, size, deflated).spooled(spool)
                    pages.append(FetchedPage(url, status, packed, fetched_at=fetched_at))
                elif kind == "done":
                    future.set_result(pages)
                elif kind == "failed":
                    future.set_exception(rest[0])
        code = self._reap(slug)
        if not future.done():
            self._start_next()
            future.set_exception(ProviderFetchError(
                f"the fetch process (pid {self.pids[slug]}) ended with exit code {code} before it sent {slug}'s list"
            ))


def _fetch_and_send(slug: str, policy: HttpPolicy, settings: CatalogSettings, write_end: int) -> None:
    def send(message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        _write_all(write_end, _HEADER.pack(len(data)) + data)  # a failed send (the parent has gone) ends the child

    try:
        pages = fetch_provider(slug, policy, settings)
    except Exception as exc:  # noqa: BLE001 - the list's own error, raised in the parent's run
        send(("failed", _portable(exc)))
        return
    send(("fetched",))
    for page in pages:
        send(("page", page.url, page.status, page.fetched_at, *page.packed.portable()))
    send(("done",))
    os.close(write_end)


def _portable(exc: Exception) -> Exception:
    """The error as it is if it survives the pipe; else its type and message (without a traceback)."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - e.g. an exception class whose constructor takes other arguments
        return ProviderFetchError(f"{type(exc).__name__}: {exc}")


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view):]
