"""``make_mocked_request``: a ``Request`` for unit-testing handlers without a server.

aiohttp builds it from ``unittest.mock`` objects. Here nothing is mocked: the request
head goes through a real ``treadle.protocol.ServerConnection``, and the response is
written by :class:`InMemoryWriter` through that same connection, so what a handler
sends is checked (framing, header injection) exactly as on a socket, and the bytes
are kept in ``writer.output`` for the test to look at.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from multidict import CIMultiDict

from ..message import EMPTY_PAYLOAD, StreamReader
from ..protocol import Data, EndOfMessage, Response, ServerConnection
from ..protocol import Request as RequestEvent
from ._http_helpers import HttpVersion, HttpVersion11
from ._interfaces import ConnectionInfo, RawHeaders, ResponseWriter
from ._matchinfo import AbstractRoute, UrlMappingMatchInfo
from ._request import Request

__all__ = ["InMemoryWriter", "MockedConnection", "make_mocked_request"]


class MockedConnection:
    """A ``ConnectionInfo`` with fixed addresses; ``closed`` tells ``force_close``."""

    def __init__(
        self,
        peername: Any = ("127.0.0.1", 49152),
        sockname: Any = ("127.0.0.1", 8080),
        ssl_object: Any = None,
    ) -> None:
        self._peername = peername
        self._sockname = sockname
        self._ssl_object = ssl_object
        self.closed = False

    @property
    def peername(self) -> Any:
        return self._peername

    @property
    def sockname(self) -> Any:
        return self._sockname

    @property
    def ssl_object(self) -> Any:
        return self._ssl_object

    def force_close(self) -> None:
        self.closed = True


class InMemoryWriter:
    """A ``ResponseWriter`` that serialises through a real ``ServerConnection``.

    ``output`` holds the bytes that would have gone to the socket; ``sendfile`` reads
    the file (no zero-copy in memory).
    """

    def __init__(self, connection: ServerConnection) -> None:
        self.connection = connection
        self.output = bytearray()
        self._head: bytes | None = None
        self._headers_sent = False
        self._output_size = 0
        self.eof = False

    @property
    def headers_sent(self) -> bool:
        return self._headers_sent

    @property
    def output_size(self) -> int:
        return self._output_size

    def send_head(self, status: int, reason: str, headers: RawHeaders) -> None:
        if self._headers_sent:
            raise RuntimeError("the response head was sent already")
        event = Response(status, headers, reason.encode("latin-1"))
        self._head = self.connection.send(event)
        self._headers_sent = True

    def _flush_head(self) -> None:
        if self._head is not None:
            self.output += self._head
            self._head = None

    def _check_open(self) -> None:
        if self.eof:
            raise RuntimeError("the response has ended")
        if not self._headers_sent:
            raise RuntimeError("send_head() must come first")

    async def write(self, data: bytes) -> None:
        self._check_open()
        self._flush_head()
        self.output += self.connection.send(Data(bytes(data)))
        self._output_size += len(data)

    async def write_eof(self, data: bytes = b"") -> None:
        self._check_open()
        if data:
            await self.write(data)
        self._flush_head()
        self.output += self.connection.send(EndOfMessage())
        self.eof = True

    async def send_whole(self, status: int, reason: str, headers: RawHeaders, body: bytes) -> None:
        self.send_head(status, reason, headers)
        await self.write_eof(body)

    async def sendfile(self, file: IO[bytes], offset: int, count: int) -> None:
        file.seek(offset)
        while count > 0:
            data = file.read(min(count, 256 * 1024))
            if not data:
                raise RuntimeError("the file ended before the bytes to send")
            await self.write(data)
            count -= len(data)

    async def drain(self) -> None:
        self._check_open()
        self._flush_head()


class _MockedRoute(AbstractRoute):
    """The route of a mocked match: no resource, a handler that returns nothing."""

    def __init__(self) -> None:
        super().__init__("*", _no_handler)

    @property
    def name(self) -> str | None:
        return None

    def get_info(self) -> dict[str, Any]:
        return {}

    def url_for(self, *args: str, **kwargs: str) -> Any:
        raise RuntimeError("a mocked route has no URL")


async def _no_handler(request: Any) -> None:
    return None


class _MockedApp(dict[Any, Any]):
    """The app of a mocked request when none is given: state mapping, no signals."""

    on_response_prepare: tuple[Any, ...] = ()


def _head_bytes(method: str, path: str, version: HttpVersion, headers: CIMultiDict[str]) -> bytes:
    lines = [f"{method} {path} HTTP/{version[0]}.{version[1]}\r\n".encode("latin-1")]
    for name, value in headers.items():
        lines.append(f"{name}: {value}\r\n".encode("latin-1"))
    lines.append(b"\r\n")
    return b"".join(lines)


def make_mocked_request(
    method: str,
    path: str,
    headers: Mapping[str, str] | Any = None,
    *,
    match_info: Mapping[str, str] | None = None,
    version: HttpVersion = HttpVersion11,
    closing: bool = False,
    app: Any = None,
    writer: ResponseWriter | None = None,
    protocol: ConnectionInfo | None = None,
    transport: Any = None,
    payload: StreamReader | bytes | None = None,
    sslcontext: Any = None,
    client_max_size: int = 1024**2,
    loop: Any = None,
) -> Request:
    """A routed ``Request`` for ``method path`` with ``headers``, answered in memory.

    ``payload`` is the body, as a ``StreamReader`` or ``bytes``; ``sslcontext`` (any
    object) makes the request look TLS. ``request.writer.output`` (when ``writer`` is
    not given) holds the bytes the response produced. ``transport`` and ``loop`` are
    accepted for aiohttp compatibility and ignored.
    """
    head_headers: CIMultiDict[str] = CIMultiDict(headers or ())
    if version == HttpVersion11 and "Host" not in head_headers:
        head_headers["Host"] = "example.com"  # RFC 9112 3.2: HTTP/1.1 needs one
    if closing and "Connection" not in head_headers:
        head_headers["Connection"] = "close"
    connection = ServerConnection()
    # Upper-cased: llhttp knows the standard methods only in their registered spelling.
    connection.receive_data(_head_bytes(method.upper(), path, version, head_headers))
    event = connection.next_event()
    if not isinstance(event, RequestEvent):
        raise ValueError(f"the core did not accept this request head: {event!r}")
    if isinstance(payload, bytes | bytearray):
        stream = StreamReader()
        stream.feed_data(bytes(payload))
        stream.feed_eof()
        body: StreamReader = stream
    elif payload is None:
        body = EMPTY_PAYLOAD
    else:
        body = payload
    conn = protocol if protocol is not None else MockedConnection(ssl_object=sslcontext)
    request = Request(
        event,
        body,
        conn,
        writer if writer is not None else InMemoryWriter(connection),
        None,
        client_max_size=client_max_size,
    )
    info = UrlMappingMatchInfo(dict(match_info or {}), _MockedRoute())
    info.add_app(_MockedApp() if app is None else app)
    request._match_info = info
    return request
