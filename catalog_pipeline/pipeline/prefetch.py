"""Overlap the network part of a multi-provider sync.

A sync of several providers runs one Dagster run per provider, so each provider's success or
failure is its own. Running those runs one after another would also serialize the slow part,
the HTTP fetches; so the caller may start every fetch up front in a thread pool, and each run's
fetch step then takes its provider's result (pages or the exact error) from here.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator

from .http import FetchedPage

_lock = threading.Lock()
_pending: dict[str, Future] = {}


@contextmanager
def prefetching(
    slugs: Iterable[str], fetch: Callable[[str], list[FetchedPage]], *, max_workers: int = 8
) -> Iterator[None]:
    slugs = list(slugs)
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(slugs))), thread_name_prefix="prefetch") as pool:
        futures = {slug: pool.submit(fetch, slug) for slug in slugs}
        with _lock:
            _pending.update(futures)
        try:
            yield
        finally:
            with _lock:
                for slug, future in futures.items():
                    if _pending.get(slug) is future:
                        del _pending[slug]
            for future in futures.values():
                future.cancel()


def take(slug: str) -> Future | None:
    """The prefetched result for `slug`, once; None when nothing was prefetched."""
    with _lock:
        return _pending.pop(slug, None)
