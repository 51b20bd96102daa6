"""The seam between the per-connection runtime and the request/response objects.

The connection handler (``_handler.py``) parses requests with the sans-IO core and gives
each one a :class:`ResponseWriter` and a :class:`ConnectionInfo`; ``Request`` and the
``StreamResponse`` family (``_request.py``, ``_response.py``) only talk to those two, so
they never see a backend or the protocol connection, and tests can drive them with
in-memory fakes.

Header names and values cross this seam as ``bytes`` pairs, ready for the protocol core
(which adds framing headers it needs, checks them and refuses injection).
"""

from __future__ import annotations

from typing import IO, Any, Protocol

__all__ = ["ConnectionInfo", "RawHeaders", "ResponseWriter"]

RawHeaders = list[tuple[bytes, bytes]]


class ResponseWriter(Protocol):
    """Where one response goes: head once, then body chunks, then the end.

    The protocol core frames the body from the head: ``Content-Length`` when given,
    chunked for HTTP/1.1 otherwise, until-close for HTTP/1.0 (RFC 9112 6.3). After
    ``write_eof`` (or ``send_whole``) the writer refuses further output.
    """

    @property
    def headers_sent(self) -> bool:
        """True once the head has been handed to the connection."""
        ...

    @property
    def output_size(self) -> int:
        """Body bytes written so far (the access log's ``%b``)."""
        ...

    def send_head(self, status: int, reason: str, headers: RawHeaders) -> None:
        """Buffer the response head; nothing is flushed until a write, drain or end."""
        ...

    async def write(self, data: bytes) -> None:
        """Send a body chunk; waits while the peer is slow (write-buffer high water)."""
        ...

    async def write_eof(self, data: bytes = b"") -> None:
        """Send the last chunk (if any) and end the response."""
        ...

    async def send_whole(self, status: int, reason: str, headers: RawHeaders, body: bytes) -> None:
        """Head, body and end in one write: the fast path for a ``Response`` with a body."""
        ...

    async def sendfile(self, file: IO[bytes], offset: int, count: int) -> None:
        """Send ``count`` bytes of ``file`` from ``offset`` as (part of) the body.

        Uses the backend's zero-copy sendfile when the connection allows it (plain TCP,
        not chunked) and falls back to read/write otherwise.
        """
        ...

    async def drain(self) -> None:
        """Wait until the connection's write buffer is below its low-water mark."""
        ...


class ConnectionInfo(Protocol):
    """What a request may know about the connection it arrived on."""

    @property
    def peername(self) -> Any:
        """The client's socket address (``(host, port)`` for TCP, a path or '' for Unix)."""
        ...

    @property
    def sockname(self) -> Any: ...

    @property
    def ssl_object(self) -> Any:
        """The TLS session (``getpeercert()``, ``cipher()``...) or None for plain HTTP."""
        ...

    def force_close(self) -> None:
        """Close the connection after the current response instead of keeping it alive."""
        ...
