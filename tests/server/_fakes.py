"""In-memory peers for request/response tests: real protocol core, no sockets.

``exchange(raw)`` parses raw request bytes with a real ``ServerConnection`` and gives a
``Request`` wired to an ``InMemoryWriter`` over the same connection; ``parse(writer)``
reads the bytes the response produced back with a real ``ClientConnection``, so tests
check what would be on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from treadle.message import EMPTY_PAYLOAD, StreamReader
from treadle.protocol import (
    ClientConnection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    ServerConnection,
)
from treadle.protocol import Request as RequestEvent
from treadle.protocol import Response as ResponseEvent
from treadle.server._mocked import InMemoryWriter, MockedConnection
from treadle.server._request import Request

__all__ = ["FakeConnection", "Parsed", "exchange", "parse"]

FakeConnection = MockedConnection


@dataclass
class Parsed:
    status: int
    reason: str
    headers: CIMultiDictProxy[str]
    body: bytes
    raw_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    must_close: bool = False


def exchange(
    raw: bytes,
    *,
    client_max_size: int = 1024**2,
    conn: Any = None,
    eof: bool = True,
    request_class: type[Request] = Request,
) -> Request:
    """A request parsed from ``raw`` (head and, when given, the whole body)."""
    server = ServerConnection()
    server.receive_data(raw)
    head = server.next_event()
    assert isinstance(head, RequestEvent), head
    body = StreamReader()
    has_body = False
    for event in server.events():
        if isinstance(event, Data):
            body.feed_data(event.data)
            has_body = True
        elif isinstance(event, EndOfMessage):
            break
    payload = body if has_body or not eof else EMPTY_PAYLOAD
    if eof and has_body:
        body.feed_eof()
    return request_class(
        head,
        payload,
        conn if conn is not None else MockedConnection(),
        InMemoryWriter(server),
        None,
        client_max_size=client_max_size,
    )


def parse(writer: Any, method: bytes = b"GET") -> Parsed:
    """The response in ``writer.output``, parsed by a real client connection."""
    client = ClientConnection()
    client.send(RequestEvent(method, b"/", [(b"Host", b"example.com")]))
    client.send(EndOfMessage())
    client.receive_data(bytes(writer.output))
    client.receive_data(b"")
    response = None
    body = bytearray()
    for event in client.events():
        if isinstance(event, ResponseEvent):
            response = event
        elif isinstance(event, Data):
            body += event.data
        elif isinstance(event, EndOfMessage | ConnectionClosed):
            break
    assert response is not None, bytes(writer.output)
    headers = CIMultiDict(
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in response.headers
    )
    return Parsed(
        response.status_code,
        response.reason.decode("latin-1"),
        CIMultiDictProxy(headers),
        bytes(body),
        list(response.headers),
        writer.connection.must_close,
    )
