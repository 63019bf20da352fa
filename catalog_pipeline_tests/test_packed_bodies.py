"""A page body held packed gives back exactly the bytes received, small (kept as is) or large
(deflated, and spooled to disk past SPOOL_PIECE), however it arrived in pieces."""

from __future__ import annotations

import random

import pytest

from catalog_pipeline.pipeline.packed import KEEP_RAW, SPOOL_PIECE, Packer, Spool


def _body(size: int) -> bytes:
    rng = random.Random(size)
    return bytes(rng.getrandbits(8) for _ in range(size // 4)) + b'{"id": "x"}' * ((size - size // 4) // 11 + 1)


@pytest.mark.parametrize("size", [0, 10, KEEP_RAW - 1, KEEP_RAW, KEEP_RAW + 1, 3 * SPOOL_PIECE])
@pytest.mark.parametrize("spooled", [False, True])
def test_a_packed_body_unpacks_to_the_bytes_received(size, spooled):
    body = _body(size)[:size]
    packer = Packer(Spool() if spooled else None)
    for start in range(0, len(body), 7_000):  # pieces as a stream delivers them
        packer.write(body[start:start + 7_000])
    packed = packer.packed()
    assert packed.size == len(body)
    assert packed.unpack() == body
    assert packed.spooled(Spool()).unpack() == body


def test_a_body_kept_as_it_is_is_never_spooled_as_if_deflated(monkeypatch):
    # Holds whatever KEEP_RAW is set to, even above SPOOL_PIECE.
    monkeypatch.setattr("catalog_pipeline.pipeline.packed.KEEP_RAW", 2 * SPOOL_PIECE)
    body = _body(SPOOL_PIECE + 1)[: SPOOL_PIECE + 1]
    packer = Packer()
    packer.write(body)
    assert packer.packed().spooled(Spool()).unpack() == body
