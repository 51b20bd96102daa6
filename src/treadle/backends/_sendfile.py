"""Portable sendfile fallback: read the file in a thread, write it, respect backpressure."""

from __future__ import annotations

import os
from typing import IO

from ._interface import Backend, Connection

__all__ = ["CHUNK", "file_span", "sendfile_fallback"]

CHUNK = 256 * 1024


def file_span(file: IO[bytes], offset: int, count: int | None) -> int:
    """Bytes to send from ``offset``: ``count`` or up to the end of the file."""
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")
    if count is not None:
        if count < 0:
            raise ValueError(f"count must be >= 0 or None, got {count}")
        return count
    try:
        size = os.fstat(file.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        end = file.seek(0, os.SEEK_END)
        return max(0, end - offset)
    return max(0, size - offset)


def _read_at(file: IO[bytes], offset: int, size: int) -> bytes:
    file.seek(offset)
    return file.read(size)


async def sendfile_fallback(
    backend: Backend, conn: Connection, file: IO[bytes], offset: int, count: int | None
) -> int:
    """Send ``count`` bytes (or to EOF) of ``file`` from ``offset``; returns bytes sent.

    Used for TLS connections, non-regular files and loops without native sendfile
    (uvloop). The file position is left after the last byte sent, as asyncio does.
    """
    remaining = file_span(file, offset, count)
    sent = 0
    while remaining > 0:
        chunk = await backend.run_in_thread(_read_at, file, offset + sent, min(CHUNK, remaining))
        if not chunk:
            break
        conn.write(chunk)
        sent += len(chunk)
        remaining -= len(chunk)
        await conn.drain()
    file.seek(offset + sent)
    return sent
