"""Bytes inside a chunked body that carry no data are bounded, on both sides and for
every engine: a peer streaming an endless chunk extension or trailer field gets a
``RemoteProtocolError`` after about ``max_head_size`` bytes (llhttp alone would read
the extension forever and buffer the trailer in memory)."""

from __future__ import annotations

import pytest

from treadle.protocol import (
    ClientConnection,
    Data,
    EndOfMessage,
    Limits,
    RemoteProtocolError,
    Request,
    ServerConnection,
)

LIMITS = Limits(max_head_size=16384)
PIECE = 1024
STREAMS = {
    "extension": b"1;ext=",
    "trailer": b"1\r\nx\r\n0\r\nX-Trailer: ",
}


def drain(conn: ServerConnection | ClientConnection) -> None:
    for _ in conn.events():
        pass


def stream_until_refused(conn: ServerConnection | ClientConnection, filler: bytes) -> int:
    """Bytes of ``filler`` fed before the connection refuses (bounded loop)."""
    sent = 0
    while sent < 100 * LIMITS.max_head_size:
        conn.receive_data(filler * PIECE)
        sent += PIECE
        try:
            drain(conn)
        except RemoteProtocolError:
            return sent
    raise AssertionError("an endless chunk framing stream was never refused")


@pytest.mark.parametrize("kind", list(STREAMS))
def test_server_refuses_endless_framing(engine: str, kind: str) -> None:
    conn = ServerConnection(engine=engine, limits=LIMITS)
    conn.receive_data(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + STREAMS[kind]
    )
    drain(conn)
    sent = stream_until_refused(conn, b"e")
    assert sent <= 2 * LIMITS.max_head_size


@pytest.mark.parametrize("kind", list(STREAMS))
def test_client_refuses_endless_framing(engine: str, kind: str) -> None:
    conn = ClientConnection(engine=engine, limits=LIMITS)
    conn.send(Request(b"GET", b"/", [(b"Host", b"x")]))
    conn.send(EndOfMessage())
    conn.receive_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + STREAMS[kind])
    drain(conn)
    sent = stream_until_refused(conn, b"t")
    assert sent <= 2 * LIMITS.max_head_size


def test_many_small_chunks_with_extensions_are_not_refused(engine: str) -> None:
    """Data keeps flowing, so framing never piles up: 5000 chunks pass."""
    conn = ServerConnection(engine=engine, limits=LIMITS)
    conn.receive_data(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    body = b""
    for _ in range(50):
        conn.receive_data(b"1;name=value\r\nx\r\n" * 100)
        body += b"".join(e.data for e in conn.events() if isinstance(e, Data))
    conn.receive_data(b"0\r\n\r\n")
    assert any(isinstance(e, EndOfMessage) for e in conn.events())
    assert body == b"x" * 5000
