"""Body bytes the caller writes itself (zero-copy sendfile): ``can_send_body_externally``
and ``body_sent_externally`` keep the core's framing accounting exact."""

from __future__ import annotations

import pytest

from treadle.protocol import (
    ClientConnection,
    Data,
    EndOfMessage,
    LocalProtocolError,
    Request,
    Response,
    ServerConnection,
)

GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"


def _server(engine: str, request: bytes = GET) -> ServerConnection:
    conn = ServerConnection(engine=engine)
    conn.receive_data(request)
    list(conn.events())
    return conn


def test_content_length_counts_external_bytes(engine: str) -> None:
    conn = _server(engine, GET + GET)
    head = conn.send(Response(200, [(b"Content-Length", b"10")]))
    assert head.endswith(b"\r\n\r\n")
    assert conn.can_send_body_externally
    conn.body_sent_externally(4)
    conn.body_sent_externally(0)
    # The rest may go through the core as usual; it emits only what it is given.
    assert conn.send(Data(b"ab")) == b"ab"
    conn.body_sent_externally(4)
    assert conn.send(EndOfMessage()) == b""
    assert not conn.must_close
    assert not conn.can_send_body_externally  # between responses
    # The connection goes on with the next pipelined request.
    assert conn.send_whole(Response(200, [(b"Content-Length", b"2")]), b"ok").endswith(b"ok")


def test_more_than_the_content_length_is_refused_and_not_counted(engine: str) -> None:
    conn = _server(engine)
    conn.send(Response(200, [(b"Content-Length", b"5")]))
    conn.body_sent_externally(3)
    with pytest.raises(LocalProtocolError, match="exceed the Content-Length"):
        conn.body_sent_externally(3)
    conn.body_sent_externally(2)  # the refused count changed nothing
    with pytest.raises(LocalProtocolError, match="longer than its Content-Length"):
        conn.send(Data(b"x"))
    assert conn.send(EndOfMessage()) == b""


def test_fewer_than_the_content_length_cannot_end(engine: str) -> None:
    conn = _server(engine)
    conn.send(Response(200, [(b"Content-Length", b"5")]))
    conn.body_sent_externally(4)
    with pytest.raises(LocalProtocolError, match="1 bytes missing"):
        conn.send(EndOfMessage())


def test_until_close_framing_takes_any_count(engine: str) -> None:
    conn = _server(engine, b"GET / HTTP/1.0\r\n\r\n")
    head = conn.send(Response(200, [(b"Content-Type", b"text/plain")]))
    assert b"Connection: close" in head
    assert conn.can_send_body_externally
    conn.body_sent_externally(1 << 40)
    assert conn.send(EndOfMessage()) == b""
    assert conn.must_close


def test_chunked_framing_is_refused(engine: str) -> None:
    conn = _server(engine)
    head = conn.send(Response(200, []))  # HTTP/1.1 without a length: sent chunked
    assert b"Transfer-Encoding: chunked" in head
    assert not conn.can_send_body_externally
    with pytest.raises(LocalProtocolError, match="chunk"):
        conn.body_sent_externally(3)
    # Nothing was committed: the body can still be sent through the core.
    assert conn.send(Data(b"abc")) == b"3\r\nabc\r\n"
    assert conn.send(EndOfMessage()) == b"0\r\n\r\n"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", 200), (GET, 204), (GET, 304)],
)
def test_a_message_without_a_body_takes_none(
    engine: str, request_bytes: bytes, status: int
) -> None:
    conn = _server(engine, request_bytes)
    conn.send(Response(status, [(b"Content-Length", b"5")] if status != 204 else []))
    assert not conn.can_send_body_externally
    conn.body_sent_externally(0)
    with pytest.raises(LocalProtocolError, match="cannot have a body"):
        conn.body_sent_externally(1)
    assert conn.send(EndOfMessage()) == b""


def test_outside_a_message_is_refused(engine: str) -> None:
    conn = _server(engine)
    assert not conn.can_send_body_externally
    with pytest.raises(LocalProtocolError, match="send a head first"):
        conn.body_sent_externally(1)
    conn.send_whole(Response(200, [(b"Content-Length", b"0")]))
    with pytest.raises(LocalProtocolError, match="send a head first"):
        conn.body_sent_externally(0)


def test_a_negative_count_is_a_value_error(engine: str) -> None:
    conn = _server(engine)
    conn.send(Response(200, [(b"Content-Length", b"5")]))
    with pytest.raises(ValueError, match="negative"):
        conn.body_sent_externally(-1)
    conn.body_sent_externally(5)
    conn.send(EndOfMessage())


def test_a_client_request_body_too(engine: str) -> None:
    conn = ClientConnection(engine=engine)
    conn.send(Request(b"PUT", b"/f", [(b"Host", b"a"), (b"Content-Length", b"6")]))
    assert conn.can_send_body_externally
    conn.body_sent_externally(6)
    assert conn.send(EndOfMessage()) == b""
    conn.receive_data(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert [type(event) for event in conn.events()] == [Response, EndOfMessage]
    assert conn.is_idle
    conn.send(Request(b"POST", b"/", [(b"Host", b"a"), (b"Transfer-Encoding", b"chunked")]))
    assert not conn.can_send_body_externally
    with pytest.raises(LocalProtocolError):
        conn.body_sent_externally(1)
