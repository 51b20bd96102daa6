"""ClientConnection: requests out, responses in."""

from __future__ import annotations

import pytest

from treadle.protocol import (
    ClientConnection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    InformationalResponse,
    LocalProtocolError,
    RemoteProtocolError,
    Request,
    Response,
)

from ._drive import merge_data, parse_responses

HOST = [(b"Host", b"example.com")]


def client(engine: str, method: bytes = b"GET", headers: list | None = None) -> ClientConnection:
    conn = ClientConnection(engine=engine)
    conn.send(Request(method, b"/", HOST + (headers or [])))
    conn.send(EndOfMessage())
    return conn


def events(conn: ClientConnection) -> list:
    return merge_data(conn.events())


def test_request_serialisation(engine: str) -> None:
    conn = ClientConnection(engine=engine)
    wire = conn.send(Request(b"POST", b"/submit?x=1", [*HOST, (b"Content-Length", b"3")]))
    wire += conn.send(Data(b"abc")) + conn.send(EndOfMessage())
    assert wire == b"POST /submit?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\r\nabc"


def test_chunked_upload(engine: str) -> None:
    conn = ClientConnection(engine=engine)
    wire = conn.send(Request(b"PUT", b"/", [*HOST, (b"Transfer-Encoding", b"chunked")]))
    wire += conn.send(Data(b"hello")) + conn.send(EndOfMessage())
    assert wire.endswith(b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n")


def test_response_with_content_length_then_reuse(engine: str) -> None:
    conn = client(engine)
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    assert events(conn) == [
        Response(200, [(b"Content-Length", b"5")], b"OK"),
        Data(b"hello"),
        EndOfMessage(),
    ]
    assert conn.is_idle
    conn.send(Request(b"GET", b"/again", HOST))
    conn.send(EndOfMessage())
    conn.receive_data(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert [type(e) for e in conn.events()] == [Response, EndOfMessage]


def test_chunked_response_with_trailers(engine: str) -> None:
    conn = client(engine)
    conn.receive_data(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"
    )
    assert events(conn)[1:] == [Data(b"abc"), EndOfMessage([(b"X-T", b"1")])]


def test_body_until_close(engine: str) -> None:
    conn = client(engine)
    conn.receive_data(b"HTTP/1.1 200 OK\r\n\r\nsome ")
    conn.receive_data(b"bytes")
    conn.receive_data(b"")
    assert events(conn)[1:] == [Data(b"some bytes"), EndOfMessage(), ConnectionClosed()]
    assert conn.must_close and not conn.is_idle


def test_short_body_is_an_error_not_a_shorter_body(engine: str) -> None:
    outcome = parse_responses(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", engine, eof=True
    )
    assert outcome.error is not None
    assert EndOfMessage() not in outcome.events


def test_broken_chunked_body_is_an_error(engine: str) -> None:
    outcome = parse_responses(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc", engine, eof=True
    )
    assert outcome.error is not None
    assert EndOfMessage() not in outcome.events


def test_head_response_has_no_body(engine: str) -> None:
    conn = client(engine, b"HEAD")
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    assert [type(e) for e in conn.events()] == [Response, EndOfMessage]
    assert conn.is_idle


@pytest.mark.parametrize("status", [204, 304])
def test_bodiless_statuses(engine: str, status: int) -> None:
    conn = client(engine)
    conn.receive_data(b"HTTP/1.1 %d X\r\nContent-Length: 5\r\n\r\n" % status)
    assert [type(e) for e in conn.events()] == [Response, EndOfMessage]


def test_informational_then_final(engine: str) -> None:
    conn = client(engine)
    conn.receive_data(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    )
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert [type(e) for e in conn.events()] == [
        InformationalResponse,
        InformationalResponse,
        Response,
        EndOfMessage,
    ]


def test_switching_protocols(engine: str) -> None:
    conn = client(engine, headers=[(b"Connection", b"Upgrade"), (b"Upgrade", b"websocket")])
    conn.receive_data(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n\x81\x05"
    )
    assert [type(e) for e in conn.events()] == [InformationalResponse]
    assert conn.switched
    conn.receive_data(b"hello")
    assert conn.trailing_data == (b"\x81\x05hello", False)


def test_101_without_an_upgrade_request_is_an_error(engine: str) -> None:
    response = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n"
    assert parse_responses(response, engine).error is not None
    assert parse_responses(response, engine, upgrade=True).error is None


def test_101_without_upgrade_fields_is_an_error(engine: str) -> None:
    response = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"
    assert parse_responses(response, engine, upgrade=True).error is not None


def test_connect_tunnel(engine: str) -> None:
    conn = ClientConnection(engine=engine)
    conn.send(Request(b"CONNECT", b"example.com:443", [(b"Host", b"example.com:443")]))
    conn.send(EndOfMessage())
    conn.receive_data(b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01")
    assert [type(e) for e in conn.events()] == [Response, EndOfMessage]
    assert conn.switched
    assert conn.trailing_data == (b"\x16\x03\x01", False)


def test_refused_connect_has_a_body(engine: str) -> None:
    conn = ClientConnection(engine=engine)
    conn.send(Request(b"CONNECT", b"example.com:443", [(b"Host", b"example.com:443")]))
    conn.send(EndOfMessage())
    conn.receive_data(b"HTTP/1.1 407 Proxy Auth\r\nContent-Length: 4\r\n\r\ndeny")
    assert events(conn)[1:] == [Data(b"deny"), EndOfMessage()]
    assert not conn.switched


def test_connection_close_response(engine: str) -> None:
    conn = client(engine)
    conn.receive_data(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    list(conn.events())
    assert conn.must_close and not conn.is_idle
    with pytest.raises(LocalProtocolError):
        conn.send(Request(b"GET", b"/", HOST))


def test_http10_response_closes(engine: str) -> None:
    conn = client(engine)
    conn.receive_data(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    list(conn.events())
    assert conn.must_close


def test_data_after_the_response_is_an_error(engine: str) -> None:
    conn = client(engine)
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxEXTRA")
    seen = []
    with pytest.raises(RemoteProtocolError):
        while True:
            seen.append(conn.next_event())
    assert [type(e) for e in seen] == [Response, Data, EndOfMessage]


def test_one_request_at_a_time(engine: str) -> None:
    conn = client(engine)
    with pytest.raises(LocalProtocolError):
        conn.send(Request(b"GET", b"/", HOST))


def test_host_is_required_on_http11(engine: str) -> None:
    conn = ClientConnection(engine=engine)
    with pytest.raises(LocalProtocolError):
        conn.send(Request(b"GET", b"/", []))


@pytest.mark.parametrize(
    "request_event",
    [
        Request(b"GET", b"/ HTTP/1.1\r\nInjected: yes\r\n\r\n", HOST),
        Request(b"GET", b"/a b", HOST),
        Request(b"GE T", b"/", HOST),
        Request(b"GET\r\n", b"/", HOST),
        Request(b"GET", b"/", [*HOST, (b"X", b"v\r\nInjected: yes")]),
        Request(b"GET", b"/", [*HOST, (b"X\r\nY", b"v")]),
        Request(b"GET", b"/", [*HOST, (b"X", b"\x00")]),
    ],
)
def test_header_injection_is_refused(engine: str, request_event: Request) -> None:
    conn = ClientConnection(engine=engine)
    with pytest.raises(LocalProtocolError):
        conn.send(request_event)
    assert conn.is_idle  # nothing was committed


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/3.0 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
        b"HTTP/1.1 200 OK\r\nBad Header: 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
    ],
)
def test_malformed_responses_are_rejected(engine: str, data: bytes) -> None:
    outcome = parse_responses(data, engine, step=len(data), eof=True)
    assert outcome.error is not None, outcome


def test_no_chunked_request_on_http10(engine: str) -> None:
    conn = ClientConnection(engine=engine)
    with pytest.raises(LocalProtocolError):
        conn.send(Request(b"POST", b"/", [(b"Transfer-Encoding", b"chunked")], b"1.0"))
