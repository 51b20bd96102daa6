"""Limits on everything a peer controls in an HTTP/1.1 message head and body."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds applied by the core, whichever engine parses.

    The defaults follow aiohttp (8190-byte lines and fields, 128 headers). Exceeding a
    head limit raises ``RemoteProtocolError`` with status hint 414 (request line) or 431
    (header fields); exceeding ``max_body_size`` gives 413.
    """

    max_line_size: int = 8190
    """Longest request line or status line, without its CRLF."""
    max_field_size: int = 8190
    """Longest header (or trailer) field name, and longest field value."""
    max_headers: int = 128
    """Most header fields in one head, and most trailer fields after a chunked body."""
    max_head_size: int = 65536
    """Most bytes of one whole head (start line, fields and line ends)."""
    max_body_size: int | None = None
    """Most bytes of one message body; ``None`` leaves bodies to the layer above."""
    max_pipelined_requests: int = 64
    """Most complete requests a server connection queues before it has answered them."""
