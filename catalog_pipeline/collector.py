"""The cyclic garbage collector paused around bulk work on rows."""

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
