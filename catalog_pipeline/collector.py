"""The cyclic garbage collector: paused around bulk work on rows, and kept off what lives as long as
the process."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Bulk work on rows (a load, a normalize, a refresh) allocates a few objects per cell and frees
    them all at the end; the cyclic collector would walk every live object of the process again and
    again meanwhile (a fifth of an unchanged re-sync; more in a long sync, whose process holds more).
    Reference counting still frees everything; the collector resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def set_aside_lasting_objects() -> None:
    """Everything alive now (the modules imported, the definitions, the instance) lives as long as
    the process: it is moved where the collector no longer walks it (`gc.freeze`), and a child
    forked afterwards inherits that. Each full collection of a sync's processes walked them all
    again (0.1-0.3 s each; 0.13 s once in the middle of fal's fetch, in its child)."""
    gc.freeze()


def stop_collecting() -> None:
    """For a process that ends once its work is done (a sync worker): the collector stays off, and
    reference counting alone frees what the work lets go. What a cycle holds stays until the
    process ends (seen here: about 100 MB more at its end for ten runs of 20,000 models), and no
    collection walks a run's objects between the end of the provider run the sync waits for and
    the report of it (0.1-0.4 s each, seen here)."""
    gc.disable()
