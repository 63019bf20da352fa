"""Page bodies held deflated (those of at most KEEP_RAW bytes as they are), the large ones on disk
once masked: a page waiting for the next one or for the archive costs at most `SPOOL_PIECE` of
memory, however large and incompressible it is."""

from __future__ import annotations

import os
import tempfile
import threading
import zlib

SPOOL_PIECE = 1024 * 1024  # packed bytes gathered in memory before they go to the provider's spool
PACK_LEVEL = 1  # deflate's fastest: JSON still shrinks several times over
# A body no larger is kept as it is: deflating it saves little, and each zlib call lets go of the
# GIL, which a fetch thread then waits to get back while the main thread is busy (fal's 400
# pricing pages of a few KiB each, fetched during the other providers' runs).
KEEP_RAW = 64 * 1024


class Spool:
    """One provider's packed bodies in an unnamed temporary file, gone once the last page that
    refers to it is: nothing to clean up, whatever way a run ends."""

    def __init__(self) -> None:
        self._file = None
        self._end = 0
        self._lock = threading.Lock()

    def append(self, data: bytes) -> tuple[int, int]:
        """Where `data` now lies: (offset, length)."""
        with self._lock:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="catalog-pages-")
            offset = self._end
            written = 0
            while written < len(data):
                written += os.pwrite(self._file.fileno(), memoryview(data)[written:], offset + written)
            self._end += len(data)
        return offset, len(data)

    def read_into(self, target: memoryview, offset: int) -> None:
        done = 0
        while done < len(target):
            got = os.preadv(self._file.fileno(), [target[done:]], offset + done)
            if got <= 0:
                raise OSError(f"the page spool ended {len(target) - done} bytes early")
            done += got


class Packed:
    """A body held deflated (a small one as it is); `unpack()` gives its bytes anew each time, for as
    long as they are needed."""

    __slots__ = ("_memory", "_spool", "_segments", "size", "_deflated")

    def __init__(self, memory: bytes, size: int, spool: Spool | None = None, segments: tuple = (), deflated: bool = True) -> None:
        self._memory = memory
        self._spool = spool
        self._segments = segments
        self.size = size
        self._deflated = deflated

    @classmethod
    def of(cls, body: bytes, spool: Spool | None = None) -> "Packed":
        packer = Packer(spool)
        packer.write(body)
        return packer.packed()

    def spooled(self, spool: Spool) -> "Packed":
        """This body, on disk if it is large (a body kept as it is, not deflated, stays in memory)."""
        if not self._deflated or self._segments or len(self._memory) < SPOOL_PIECE:
            return self
        return Packed(b"", self.size, spool, (spool.append(self._memory),))

    def unpack(self) -> bytes:
        if not self._deflated:
            return self._memory
        # bufsize: the output is allocated once, at its known size, rather than grown.
        return zlib.decompress(self._stored(), bufsize=max(self.size, 1))

    @property
    def on_disk(self) -> bool:
        return bool(self._segments)

    def portable(self) -> tuple[bytes, int, bool]:
        """What `Packed.of_portable` takes back in another process: the bytes as held (deflated
        unless small), their unpacked size, whether they are deflated."""
        return bytes(self._stored()), self.size, self._deflated

    @classmethod
    def of_portable(cls, held: bytes, size: int, deflated: bool) -> "Packed":
        return cls(held, size, deflated=deflated)

    def _stored(self) -> bytes | bytearray:
        if not self._segments:
            return self._memory
        data = bytearray(sum(length for _, length in self._segments))
        view, position = memoryview(data), 0
        for offset, length in self._segments:
            self._spool.read_into(view[position:position + length], offset)
            position += length
        return data


class Packer:
    """Deflates a body as it arrives; with a spool, every `SPOOL_PIECE` of output goes to disk."""

    def __init__(self, spool: Spool | None = None) -> None:
        self._zlib = None  # a compressor once the body is larger than KEEP_RAW
        self._raw: list[bytes] = []
        self._spool = spool
        self._parts: list[bytes] = []
        self._pending = 0
        self._segments: list[tuple[int, int]] = []
        self._size = 0

    def write(self, piece: bytes) -> None:
        self._size += len(piece)
        if self._zlib is None:
            self._raw.append(piece)
            if self._size <= KEEP_RAW:
                return
            self._zlib = zlib.compressobj(PACK_LEVEL)
            piece, self._raw = b"".join(self._raw), []
        if out := self._zlib.compress(piece):
            self._parts.append(out)
            self._pending += len(out)
            if self._spool is not None and self._pending >= SPOOL_PIECE:
                self._to_spool()

    def packed(self) -> Packed:
        if self._zlib is None:
            return Packed(b"".join(self._raw), self._size, deflated=False)
        self._parts.append(self._zlib.flush())
        if not self._segments:
            return Packed(b"".join(self._parts), self._size)
        self._to_spool()
        return Packed(b"", self._size, self._spool, tuple(self._segments))

    def _to_spool(self) -> None:
        self._segments.append(self._spool.append(b"".join(self._parts)))
        self._parts, self._pending = [], 0
