"""``HTTPWriter``: one response's path to the socket (the ``ResponseWriter`` seam).

Bytes come from the sans-IO ``ServerConnection`` (which frames the body and refuses
header injection) and go to the backend ``Connection`` in as few ``write`` calls as
possible: the head waits in the writer until the first body chunk or the end, and
``send_whole`` is one write for head, body and end. ``drain`` is awaited only when the
connection's write buffer is over the high-water mark, so a fast client costs no
suspension per chunk and a slow one bounds the server's memory.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import IO, TYPE_CHECKING, NamedTuple

from ..backends import DEFAULT_HIGH_WATER, Connection, get_backend
from ..protocol import Data, EndOfMessage, InformationalResponse, Response, ServerConnection
from ._interfaces import RawHeaders

if TYPE_CHECKING:
    from ._handler import RequestHandler

__all__ = ["HTTPWriter", "Upgraded"]

# The standard reason phrases: passing b"" for them lets the core use its cached lines.
_PHRASES = {status.value: status.phrase for status in HTTPStatus}
_CLOSE = (b"Connection", b"close")
# What aiohttp's default expect handler (and user code copied from it) writes by hand.
_CONTINUE_BY_HAND = (b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.0 100 Continue\r\n\r\n")


class Upgraded(NamedTuple):
    """What a protocol switch hands over: the connection and the bytes already read.

    ``trailing_data`` arrived after the upgrade request (the first frames of the new
    protocol, possibly); ``eof`` says the peer closed after them.
    """

    connection: Connection
    trailing_data: bytes
    eof: bool


def _reason(status: int, reason: str) -> bytes:
    if not reason or _PHRASES.get(status) == reason:
        return b""
    return reason.encode("latin-1")


class HTTPWriter:
    """The :class:`~treadle.server._interfaces.ResponseWriter` of one request.

    Created by the connection's ``RequestHandler`` for each request; it writes only
    while its request is the one being answered (requests are answered in order).
    """

    __slots__ = ("_conn", "_done", "_head", "_headers_sent", "_output_size", "_owner", "_proto")

    def __init__(self, owner: RequestHandler, conn: Connection, proto: ServerConnection) -> None:
        self._owner = owner
        self._conn = conn
        self._proto = proto
        self._head = b""
        self._headers_sent = False
        self._done = False
        self._output_size = 0

    @property
    def headers_sent(self) -> bool:
        return self._headers_sent

    @property
    def output_size(self) -> int:
        return self._output_size

    @property
    def finished(self) -> bool:
        """True once the response ended (``write_eof``/``send_whole`` went through)."""
        return self._done

    def _response(self, status: int, reason: str, headers: RawHeaders) -> Response:
        if self._headers_sent:
            raise RuntimeError("the response head was already sent")
        # The last response before closing (force_close, shutdown, the client's EOF):
        # say so (RFC 9112 9.6). Requests already queued behind it are answered first.
        owner = self._owner
        if (
            owner._close_after
            and not owner._queue
            and not any(name.lower() == b"connection" for name, _ in headers)
        ):
            headers = [*headers, _CLOSE]
        return Response(status, headers, _reason(status, reason))

    def _head_bytes(self, status: int, reason: str, headers: RawHeaders) -> bytes:
        head = self._proto.send(self._response(status, reason, headers))
        self._headers_sent = True
        return head

    def send_head(self, status: int, reason: str, headers: RawHeaders) -> None:
        self._head = self._head_bytes(status, reason, headers)

    async def write(self, data: bytes) -> None:
        if self._done:
            raise RuntimeError("Cannot call write() after write_eof()")
        if not self._headers_sent and data in _CONTINUE_BY_HAND:
            # An aiohttp expect handler's "100 Continue" written as raw bytes: sent as
            # the interim response it is (once, and only if the client still waits).
            self._owner._send_continue()
            return
        conn = self._conn
        if conn.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        out = self._proto.send(Data(data))
        if self._head:
            out, self._head = self._head + out, b""
        if out:
            conn.write(out)
        self._output_size += len(data)
        if conn.get_write_buffer_size() > DEFAULT_HIGH_WATER:
            await conn.drain()

    async def write_eof(self, data: bytes = b"") -> None:
        if self._done:
            return
        proto = self._proto
        out = (
            proto.send(Data(data)) + proto.send(EndOfMessage())
            if data
            else proto.send(EndOfMessage())
        )
        if self._head:
            out, self._head = self._head + out, b""
        self._done = True
        self._output_size += len(data)
        if out:
            self._conn.write(out)

    async def send_whole(self, status: int, reason: str, headers: RawHeaders, body: bytes) -> None:
        # The core's one-call path: head, body and end without an event per piece.
        out = self._proto.send_whole(self._response(status, reason, headers), body)
        self._headers_sent = True
        self._done = True
        self._output_size = len(body)
        self._conn.write(out)

    async def drain(self) -> None:
        conn = self._conn
        if self._head:
            conn.write(self._head)
            self._head = b""
        await conn.drain()

    async def sendfile(self, file: IO[bytes], offset: int, count: int) -> None:
        """Zero-copy when the body is sent as-is (Content-Length or until close, no TLS).

        The core is told about the bytes first (a ``Data`` of the same length would be
        the wrong bytes), so its Content-Length accounting stays exact: it produces
        nothing but checks the length for identity framing; chunked framing needs the
        chunk header around the bytes, so it goes through read-and-write instead.
        """
        if self._done:
            raise RuntimeError("Cannot call sendfile() after write_eof()")
        if count <= 0:
            return
        conn = self._conn
        if conn.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        if self._head:
            conn.write(self._head)
            self._head = b""
        backend = get_backend()
        if self._proto.can_send_body_externally:
            self._proto.body_sent_externally(count)  # LocalProtocolError past the length
            sent = await backend.sendfile(conn, file, offset, count)
            self._output_size += sent
            if sent != count:
                # The file was shorter than promised: the framing is broken; stop here.
                conn.abort()
                raise ConnectionResetError(
                    f"file ended after {sent} of {count} bytes; connection aborted"
                )
            return
        await backend.run_in_thread(file.seek, offset)
        remaining = count
        while remaining > 0:
            chunk = await backend.run_in_thread(file.read, min(remaining, 256 * 1024))
            if not chunk:
                raise EOFError(f"file ended {remaining} bytes before the expected end")
            remaining -= len(chunk)
            await self.write(chunk)

    def switch_protocols(self, headers: RawHeaders, reason: str = "") -> Upgraded:
        """Answer ``101 Switching Protocols`` and hand the connection over.

        For an Upgrade request only (the core refuses otherwise). The caller must
        install its own handler with ``upgraded.connection.set_handler(...)`` and feed
        it ``trailing_data`` before its next ``await``: from then on the HTTP handler
        no longer reads, times out or closes the connection.
        """
        if self._headers_sent:
            raise RuntimeError("the response head was already sent")
        out = self._proto.send(InformationalResponse(101, headers, _reason(101, reason)))
        self._headers_sent = True
        self._done = True
        self._conn.write(out)
        self._owner._switch()
        data, eof = self._proto.trailing_data
        return Upgraded(self._conn, data, eof)
