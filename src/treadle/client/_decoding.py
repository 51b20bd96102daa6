"""A response body with its Content-Encoding undone, read with the StreamReader API.

Decoding is pulled by the reader, one bounded piece at a time: a small compressed chunk
that expands enormously is decoded only as fast as the application consumes it, and the
raw stream's flow control keeps applying to the compressed bytes. The total output is
capped (``max_size``) so that ``read()`` of a decompression bomb fails instead of
filling memory.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..message import ContentDecoder, DecompressionError, StreamReader
from ._exceptions import ClientPayloadError

__all__ = ["DecodingStreamReader"]


class DecodingStreamReader(StreamReader):
    """The decoded view of ``raw``; errors in the coded data raise ClientPayloadError."""

    def __init__(self, raw: StreamReader, encoding: str, max_size: int | None) -> None:
        super().__init__()
        self._raw = raw
        self._encoding = encoding
        self._decoder = ContentDecoder(encoding, max_size=max_size)
        self._pending: Iterator[bytes] | None = None
        self._raw_done = False

    @property
    def raw(self) -> StreamReader:
        """The coded body as it came off the connection."""
        return self._raw

    def _error(self, exc: DecompressionError) -> ClientPayloadError:
        error = ClientPayloadError(f"Can not decode content-encoding: {self._encoding}: {exc}")
        error.__cause__ = exc
        self.set_exception(error)
        return error

    async def _fill(self, what: str) -> bool:
        while not self._size:
            if self._exception is not None:
                raise self._exception
            if self._eof:
                return False
            pending = self._pending
            if pending is not None:
                try:
                    piece = next(pending, None)
                except DecompressionError as exc:
                    raise self._error(exc) from exc
                if piece is None:
                    self._pending = None
                    if self._raw_done:
                        self.feed_eof()
                elif piece:
                    self.feed_data(piece)
                continue
            chunk = await self._raw.readany()
            if chunk:
                self._pending = self._decoder.iter_decompress(chunk)
            else:
                self._raw_done = True
                self._pending = self._decoder.iter_flush()
        return True

    async def wait_eof(self) -> None:
        """Wait for the end of the coded body (the decoded rest stays unread)."""
        await self._raw.wait_eof()
