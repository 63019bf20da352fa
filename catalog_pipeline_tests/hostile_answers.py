"""Hostile provider answers for the trust-boundary tests and the benchmark: a gzip bomb, an endless
chunked stream, and a sync of several providers in one invocation with chosen HTTP limits."""

from __future__ import annotations

import itertools
import struct
import time
import zlib
from collections.abc import Iterator

import dagster as dg

from catalog_pipeline.defs.assets import model_catalog, normalized_models, raw_models
from catalog_pipeline.defs.jobs import catalog_replay_job, catalog_sync_job
from catalog_pipeline.defs.handoff import IO_MANAGER_KEY, catalog_handoff
from catalog_pipeline.defs.resources import CatalogDatabase, ProviderApis

from .http_server import Reply

MiB = 1024 * 1024


def gzip_bomb(expanded_mib: int) -> bytes:
    """A gzip body of zeros that expands to `expanded_mib` MiB (about 1000:1). One MiB is compressed
    once, ending in a full flush, so its bytes can be repeated: a GiB bomb is built at once.
    The trailer's CRC is not computed: a reader that honours its cap never gets there."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    final = b"\x03\x00"  # an empty final block
    trailer = struct.pack("<II", 0, (expanded_mib * MiB) & 0xFFFFFFFF)
    return header + block * expanded_mib + final + trailer


def gzip_bomb_reply(expanded_mib: int) -> Reply:
    return Reply(body=gzip_bomb(expanded_mib), headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})


def trickle(chunk: bytes = b" ", every: float = 0.05) -> Iterator[bytes]:
    """An endless chunked body: one small chunk at a steady pace, so no read ever times out."""
    for _ in itertools.count():
        yield chunk
        time.sleep(every)


def endless_reply(chunk: bytes = b" ", every: float = 0.05) -> Reply:
    return Reply(headers={"Content-Type": "application/json"}, chunks=lambda: trickle(chunk, every))


def catalog_definitions(database_url: str, apis: ProviderApis) -> dg.Definitions:
    """The code location's jobs and assets, with these HTTP limits (for `sync.sync_providers`)."""
    return dg.Definitions(
        assets=[raw_models, normalized_models, model_catalog],
        jobs=[catalog_sync_job, catalog_replay_job],
        resources={"catalog_db": CatalogDatabase(url=database_url), "provider_apis": apis, IO_MANAGER_KEY: catalog_handoff},
        executor=dg.in_process_executor,
    )
