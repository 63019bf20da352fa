"""Database work the server does while the load's Python goes on with other work.

A load's reads (every stored fingerprint, the full rows of those that moved) and writes (a slice
of updates with their price periods) take the server a tenth of a second or more, during which
the load's own Python work (fingerprinting the list, spelling and diffing rows) could run on the
other core. `in_background` runs one read, `in_order` a queue of writes, on a thread of their own:
psycopg waits for the server without holding the interpreter lock.

The load's connection is used by one thread at a time: the caller does not touch it until it has
the read's result or the writes are done, and leaving either block always waits for the thread,
so a failure on either side never leaves a statement running on a connection being rolled back.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

T = TypeVar("T")


@contextmanager
def in_background(read: Callable[..., T], *args: Any) -> Iterator[Callable[[], T]]:
    """Start `read(*args)` on a thread; the block gets a function that waits for its result (or
    raises its error)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog-read")
    try:
        yield pool.submit(read, *args).result
    finally:
        pool.shutdown(wait=True)


@contextmanager
def in_order(on_thread: bool) -> Iterator[Callable[..., None]]:
    """The block gets `write(fn, *args)`: with `on_thread`, each call runs on one thread, in the
    order given, while the caller goes on (it must not use the connection meanwhile); leaving the
    block waits for them all and raises the first failure. Otherwise each runs at once."""
    if not on_thread:
        yield lambda fn, *args: fn(*args)
        return
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog-write")
    submitted: list[Future] = []
    try:
        yield lambda fn, *args: submitted.append(pool.submit(fn, *args))
        for future in submitted:
            future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
