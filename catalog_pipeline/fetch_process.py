"""A sync worker's provider fetches, in a process of their own.

The worker's runs hold its interpreter lock for long stretches (pandas, JSON, Dagster's
bookkeeping). A fetch thread beside them waits for the lock at every request, and a provider that
pages sequentially makes hundreds (fal asks for its prices 50 models at a time): seen here, fal's
404 requests at 20,000 models ended 4 s later beside nine runs than alone. In a forked child they
wait for nothing but the network.

The child is forked before the worker starts any thread, fetches with the same client, policy and
redactor as in-process fetches (`provider_calls.fetch_provider`), and sends each list back page by
page over a pipe (pickled, each page's body as held: deflated unless small) once the whole list is
in, or the list's error. Pickle is safe here: both ends are this program, and a provider's bytes
cross only as bytes. The parent resolves one Future per provider as each list arrives; a child
that ends early fails the providers it had not sent.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from catalog_pipeline.pipeline.errors import ProviderFetchError
from catalog_pipeline.pipeline.http import FetchedPage, HttpPolicy
from catalog_pipeline.pipeline.packed import Packed, Spool
# Imported here, not in the child: the worker imports the adapters while it waits for its share.
from catalog_pipeline.provider_calls import fetch_provider
from catalog_pipeline.settings import CatalogSettings

_HEADER = struct.Struct("!Q")  # the length of the pickled message that follows


class FetchProcess:
    """`with FetchProcess(slugs, policy, settings, max_workers=n) as fetching:` forks the child that
    fetches `slugs`; `fetching.futures[slug]` holds each list (or raises its error)."""

    def __init__(self, slugs: Iterable[str], policy: HttpPolicy, settings: CatalogSettings, *,
                 max_workers: int, close_in_child: Iterable[int] = ()) -> None:
        """`close_in_child`: descriptors the child must not hold open (a pipe whose reader waits for
        its end: the worker's report)."""
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
        self.pid: int | None = None
        self._exit_code: int | None = None
        if not slugs:
            return
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: fetch, send, and leave without the parent's exit handlers
            code = 1
            try:
                os.close(read_end)
                for descriptor in close_in_child:
                    os.close(descriptor)
                _fetch_and_send(slugs, policy, settings, max_workers, write_end)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        self.pid = pid
        self._reader = threading.Thread(target=self._receive, args=(read_end,), name="fetch-process", daemon=True)
        self._reader.start()

    def __enter__(self) -> "FetchProcess":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops the child if it is still fetching (nobody waits for its lists any more)."""
        if self.pid is None:
            return
        if self._exit_code is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self._reader.join()
        self._reap()

    def _reap(self) -> int:
        if self._exit_code is None:
            _, status = os.waitpid(self.pid, 0)
            self._exit_code = os.waitstatus_to_exitcode(status)
        return self._exit_code

    def _receive(self, read_end: int) -> None:
        pages: dict[str, list[FetchedPage]] = {}
        spools: dict[str, Spool] = {}
        with os.fdopen(read_end, "rb") as pipe:
            while header := pipe.read(_HEADER.size):
                message = pipe.read(_HEADER.unpack(header)[0]) if len(header) == _HEADER.size else b""
                try:
                    kind, slug, *rest = pickle.loads(message)
                except Exception:  # noqa: BLE001 - cut short: the child ended mid-message
                    break
                if kind == "page":
                    url, status, fetched_at, held, size, deflated = rest
                    # A large body goes to disk, as in-process fetches keep it (packed.py).
                    packed = Packed.of_portable(held, size, deflated).spooled(spools.setdefault(slug, Spool()))
                    pages.setdefault(slug, []).append(FetchedPage(url, status, packed, fetched_at=fetched_at))
                elif kind == "done":
                    self.futures[slug].set_result(pages.pop(slug, []))
                else:
                    self.futures[slug].set_exception(rest[0])
        code = self._reap()
        for slug, future in self.futures.items():
            if not future.done():
                future.set_exception(ProviderFetchError(
                    f"the fetch process (pid {self.pid}) ended with exit code {code} before it sent {slug}'s list"
                ))


def _fetch_and_send(slugs: list[str], policy: HttpPolicy, settings: CatalogSettings, max_workers: int, write_end: int) -> None:
    sending = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with sending:
            _write_all(write_end, _HEADER.pack(len(data)) + data)

    def fetch_one(slug: str) -> None:
        try:
            pages = fetch_provider(slug, policy, settings)
        except Exception as exc:  # noqa: BLE001 - the list's own error, raised in the parent's run
            send(("failed", slug, _portable(exc)))
            return
        for page in pages:
            send(("page", slug, page.url, page.status, page.fetched_at, *page.packed.portable()))
        send(("done", slug))

    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="fetch") as pool:
        for done in [pool.submit(fetch_one, slug) for slug in slugs]:
            done.result()  # a failed send (the parent has gone) ends the child with exit code 1
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
