"""The two small interfaces through which bodies meet the transport.

Payloads write into a :class:`PayloadWriter`; multipart bodies are read from a
:class:`BodyStream`. Both are structural (``typing.Protocol``): treadle's client and
server pass their own stream objects, tests pass in-memory ones, and this package never
depends on a backend (DESIGN.md).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["BodyStream", "PayloadWriter"]


class PayloadWriter(Protocol):
    """Where a payload's bytes go: ``await writer.write(chunk)`` applies backpressure."""

    async def write(self, chunk: bytes, /) -> None: ...


@runtime_checkable
class BodyStream(Protocol):
    """An incoming body, as aiohttp's ``StreamReader`` offers it.

    ``readany()`` returns the next available bytes and ``b""`` only at the end of the
    body; ``read(n)`` returns up to ``n`` bytes (all remaining when ``n`` is -1);
    ``readline()`` returns one line including its ``b"\\n"``; ``at_eof()`` tells whether
    everything was consumed. The multipart reader calls only ``readany()`` and buffers
    itself, so it needs no pushback (``unread_data``) from the stream.
    """

    async def readline(self) -> bytes: ...

    async def read(self, n: int = -1) -> bytes: ...

    async def readany(self) -> bytes: ...

    def at_eof(self) -> bool: ...
