"""``StreamReader``: a message body as it arrives, with aiohttp's reading API.

The connection layer feeds it synchronously from the transport callback
(``feed_data``/``feed_eof``/``set_exception``); application code reads it with
``await`` on whichever event loop runs (the backend is found at the point of use).
Reading is flow-controlled: past ``2 * limit`` buffered bytes the producer is asked to
pause, and once the buffer falls under ``limit`` it is asked to resume, so a slow
reader never makes a fast peer fill memory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Final

from ..backends import get_backend
from ..backends._interface import Event

__all__ = ["EMPTY_PAYLOAD", "EofStream", "IncompleteReadError", "StreamReader"]

DEFAULT_LIMIT: Final = 2**16


class EofStream(Exception):
    """Raised by ``readany``-style internals when the stream is exhausted (aiohttp name)."""


class IncompleteReadError(EOFError):
    """``readexactly`` hit the end of the stream first; ``partial`` holds what was read.

    aiohttp raises ``asyncio.IncompleteReadError``; treadle runs on trio too, so it has
    its own class with the same attributes (``partial``, ``expected``).
    """

    def __init__(self, partial: bytes, expected: int) -> None:
        super().__init__(f"{len(partial)} bytes read on a total of {expected} expected bytes")
        self.partial = partial
        self.expected = expected


class StreamReader:
    """A body stream: ``read``, ``readany``, ``readline``, ``readexactly``, iteration."""

    def __init__(
        self,
        limit: int = DEFAULT_LIMIT,
        *,
        on_pause: Callable[[], None] | None = None,
        on_resume: Callable[[], None] | None = None,
    ) -> None:
        self._low_water = limit
        self._high_water = limit * 2
        self._on_pause = on_pause
        self._on_resume = on_resume
        self._paused = False
        self._buffer: deque[bytes] = deque()
        self._size = 0
        self._cursor = 0  # offset into self._buffer[0] already handed out
        self._eof = False
        self._exception: BaseException | None = None
        self._waiter: Event | None = None
        self._eof_callbacks: list[Callable[[], None]] = []
        self.total_bytes = 0

    def __repr__(self) -> str:
        state = "eof" if self._eof else f"{self._size} bytes buffered"
        return f"<StreamReader {state}>"

    # -- the producer side (called by the connection layer, synchronously) ----------

    def feed_data(self, data: bytes) -> None:
        if not data:
            return
        if self._eof:
            raise RuntimeError("feed_data() after feed_eof()")
        self._buffer.append(data)
        self._size += len(data)
        self.total_bytes += len(data)
        self._wake()
        if not self._paused and self._size > self._high_water and self._on_pause is not None:
            self._paused = True
            self._on_pause()

    def feed_eof(self) -> None:
        self._eof = True
        self._wake()
        callbacks, self._eof_callbacks = self._eof_callbacks, []
        for callback in callbacks:
            callback()

    def set_exception(self, exc: BaseException) -> None:
        """Fail the stream: readers get ``exc`` once the data before it is consumed."""
        self._exception = exc
        self._wake()

    def on_eof(self, callback: Callable[[], None]) -> None:
        if self._eof:
            callback()
        else:
            self._eof_callbacks.append(callback)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            waiter.set()

    # -- state ------------------------------------------------------------------------

    def exception(self) -> BaseException | None:
        return self._exception

    def is_eof(self) -> bool:
        """Whether the producer said the body ended (data may still be buffered)."""
        return self._eof

    def at_eof(self) -> bool:
        """Whether the body ended and everything was read."""
        return self._eof and not self._size

    async def wait_eof(self) -> None:
        while not self._eof:
            await self._wait("wait_eof")

    # -- reading ------------------------------------------------------------------------

    async def _wait(self, what: str) -> None:
        if self._waiter is not None:
            raise RuntimeError(f"{what}() called while another coroutine is reading")
        waiter = self._waiter = get_backend().create_event()
        try:
            await waiter.wait()
        finally:
            if self._waiter is waiter:
                self._waiter = None

    async def _fill(self, what: str) -> bool:
        """Wait until data is buffered; False at the end, raise a stored error."""
        while not self._size:
            if self._exception is not None:
                raise self._exception
            if self._eof:
                return False
            await self._wait(what)
        return True

    def _take(self, n: int) -> bytes:
        """Hand out up to ``n`` buffered bytes (all of the first piece if ``n < 0``)."""
        first = self._buffer[0]
        start = self._cursor
        available = len(first) - start
        if n < 0 or n >= available:
            self._buffer.popleft()
            self._cursor = 0
            piece = first[start:] if start else first
        else:
            piece = first[start : start + n]
            self._cursor = start + n
        self._size -= len(piece)
        if self._paused and self._size < self._low_water:
            self._paused = False
            if self._on_resume is not None:
                self._on_resume()
        return piece

    async def readany(self) -> bytes:
        """The next piece that arrived, or ``b""`` at the end."""
        if not await self._fill("readany"):
            return b""
        return self._take(-1)

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all of the rest if ``n < 0``); ``b""`` at the end."""
        if n == 0:
            return b""
        if n > 0:
            if not await self._fill("read"):
                return b""
            return self._take(n)
        pieces: list[bytes] = []
        while await self._fill("read"):
            pieces.append(self._take(-1))
        return b"".join(pieces)

    async def readexactly(self, n: int) -> bytes:
        pieces: list[bytes] = []
        missing = n
        while missing:
            if not await self._fill("readexactly"):
                raise IncompleteReadError(b"".join(pieces), n)
            piece = self._take(missing)
            pieces.append(piece)
            missing -= len(piece)
        return b"".join(pieces)

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        """Bytes up to and including ``separator`` (or to the end).

        A "line" longer than the high-water mark raises ``ValueError`` rather than
        buffering without bound.
        """
        if not separator:
            raise ValueError("separator must not be empty")
        pieces: list[bytes] = []
        length = 0
        keep = len(separator) - 1  # how far back a separator may start in earlier pieces
        tail = b""  # the last ``keep`` bytes already taken
        while await self._fill("readuntil"):
            first, start = self._buffer[0], self._cursor
            end = -1
            if tail:  # a separator begun in earlier pieces ends in this one's first bytes
                found = (tail + first[start : start + keep]).find(separator)
                if found >= 0:
                    end = found + len(separator) - len(tail)
            if end < 0:
                found = first.find(separator, start)
                if found >= 0:
                    end = found + len(separator) - start
            if end >= 0:
                pieces.append(self._take(end))
                return b"".join(pieces)
            piece = self._take(-1)
            pieces.append(piece)
            if keep:
                tail = (tail + piece)[-keep:]
            length += len(piece)
            if length > self._high_water:
                raise ValueError("Chunk too big")
        return b"".join(pieces)

    async def readline(self) -> bytes:
        return await self.readuntil(b"\n")

    async def readchunk(self) -> tuple[bytes, bool]:
        """``(data, end_of_http_chunk)``; treadle's core does not report chunk
        boundaries, so the flag is always False (aiohttp sets it for chunked bodies)."""
        return await self.readany(), False

    def read_nowait(self, n: int = -1) -> bytes:
        """What is buffered now, without waiting."""
        if self._exception is not None:
            raise self._exception
        if self._waiter is not None:
            raise RuntimeError("read_nowait() called while another coroutine is reading")
        pieces: list[bytes] = []
        while self._size and n != 0:
            piece = self._take(n)
            pieces.append(piece)
            if n > 0:
                n -= len(piece)
        return b"".join(pieces)

    def unread_data(self, data: bytes) -> None:
        """Push bytes back to the front (for parsers that read one line too far)."""
        if not data:
            return
        first = self._buffer[0] if self._buffer else None
        if first is not None and self._cursor:
            self._buffer[0] = first[self._cursor :]
            self._cursor = 0
        self._buffer.appendleft(data)
        self._size += len(data)

    # -- iteration ------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[bytes]:
        while line := await self.readline():
            yield line

    async def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        """Pieces of at most ``n`` bytes (aiohttp: ``async for data in
        resp.content.iter_chunked(n)``)."""
        while data := await self.read(n):
            yield data

    async def iter_any(self) -> AsyncIterator[bytes]:
        while data := await self.readany():
            yield data

    async def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        while True:
            data, end_of_chunk = await self.readchunk()
            if not data:
                return
            yield data, end_of_chunk


class _EmptyStreamReader(StreamReader):
    """The body of a message without one: always at its end."""

    def __init__(self) -> None:
        super().__init__()
        self._eof = True

    def feed_data(self, data: bytes) -> None:
        raise RuntimeError("the empty payload cannot be fed")


EMPTY_PAYLOAD: Final[StreamReader] = _EmptyStreamReader()
