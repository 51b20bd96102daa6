"""In-memory stand-ins for the transport: a BodyStream and a PayloadWriter."""

from __future__ import annotations

import itertools
import random

from treadle.message import Payload


class MemoryStream:
    """A BodyStream over fixed bytes that hands them out in small random pieces.

    ``cuts`` gives explicit split points instead; either way ``readany`` returns b""
    only at the end, as the protocol requires.
    """

    def __init__(
        self, data: bytes, *, seed: int = 0, max_piece: int = 7, cuts: list[int] | None = None
    ) -> None:
        if cuts is None:
            rng = random.Random(seed)
            cuts, pos = [], 0
            while pos < len(data):
                pos += rng.randint(1, max_piece)
                cuts.append(pos)
        edges = sorted({0, len(data), *(c for c in cuts if 0 < c < len(data))})
        self.pieces = [data[a:b] for a, b in itertools.pairwise(edges)]
        self.reads = 0

    async def readany(self) -> bytes:
        self.reads += 1
        return self.pieces.pop(0) if self.pieces else b""

    async def read(self, n: int = -1) -> bytes:
        data = b"".join(self.pieces)
        if n < 0:
            n = len(data)
        self.pieces = [data[n:]] if data[n:] else []
        return data[:n]

    async def readline(self) -> bytes:
        data = b"".join(self.pieces)
        end = data.find(b"\n") + 1 or len(data)
        self.pieces = [data[end:]] if data[end:] else []
        return data[:end]

    def at_eof(self) -> bool:
        return not self.pieces


class Sink:
    """A PayloadWriter that records every write."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def write(self, chunk: bytes, /) -> None:
        assert isinstance(chunk, bytes), type(chunk)
        self.chunks.append(chunk)

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


async def body_of(payload: Payload) -> bytes:
    sink = Sink()
    await payload.write(sink)
    return sink.data
