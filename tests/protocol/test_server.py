"""ServerConnection: bytes in, events out; responses out, bytes on the wire."""

from __future__ import annotations

import pytest

from treadle.protocol import (
    NEED_DATA,
    PAUSED,
    ConnectionClosed,
    Data,
    EndOfMessage,
    InformationalResponse,
    Limits,
    LocalProtocolError,
    RemoteProtocolError,
    Request,
    Response,
    ServerConnection,
)

from ._drive import parse_requests

GET = b"GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"


def server(engine: str, data: bytes = b"", **kwargs: object) -> ServerConnection:
    conn = ServerConnection(engine=engine, **kwargs)  # type: ignore[arg-type]
    if data:
        conn.receive_data(data)
    return conn


def answer(conn: ServerConnection, body: bytes = b"ok", headers: list | None = None) -> bytes:
    if headers is None:
        headers = [(b"Content-Length", str(len(body)).encode())]
    return conn.send(Response(200, headers)) + conn.send(Data(body)) + conn.send(EndOfMessage())


def test_simple_get(engine: str) -> None:
    conn = server(engine, GET)
    assert list(conn.events()) == [
        Request(b"GET", b"/path?q=1", [(b"Host", b"example.com"), (b"Accept", b"*/*")]),
        EndOfMessage(),
    ]
    assert conn.next_event() is NEED_DATA
    wire = answer(conn)
    assert wire == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    assert not conn.must_close


def test_header_case_and_order_are_kept_and_ows_is_trimmed(engine: str) -> None:
    conn = server(engine, b"GET / HTTP/1.1\r\nHOST: a\r\nX-Thing:  v a l  \t\r\nx-thing: 2\r\n\r\n")
    request = conn.next_event()
    assert isinstance(request, Request)
    assert request.headers == [(b"HOST", b"a"), (b"X-Thing", b"v a l"), (b"x-thing", b"2")]


def test_content_length_body(engine: str) -> None:
    conn = server(engine, b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel")
    assert [type(e) for e in conn.events()] == [Request, Data]
    conn.receive_data(b"lo")
    assert list(conn.events()) == [Data(b"lo"), EndOfMessage()]


def test_chunked_body_with_extensions_and_trailers(engine: str) -> None:
    outcome = parse_requests(
        [
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nChecksum: abc\r\n\r\n",
        ],
        engine,
    )
    assert outcome.error is None
    assert outcome.events[1:] == [Data(b"hello world"), EndOfMessage([(b"Checksum", b"abc")])]


def test_a_body_never_yields_a_second_request(engine: str) -> None:
    smuggled = b"GET /admin HTTP/1.1\r\nHost: a\r\n\r\n"
    data = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s" % (len(smuggled), smuggled)
    outcome = parse_requests([data], engine)
    assert [type(e) for e in outcome.events] == [Request, Data, EndOfMessage]
    assert outcome.events[1] == Data(smuggled)


def test_pipelined_requests_are_answered_in_order(engine: str) -> None:
    conn = server(engine, GET + b"GET /second HTTP/1.1\r\nHost: a\r\n\r\n")
    events = list(conn.events())
    assert [type(e) for e in events] == [Request, EndOfMessage, Request, EndOfMessage]
    assert conn.pending_requests == 2
    answer(conn)
    assert conn.pending_requests == 1
    answer(conn)
    assert conn.pending_requests == 0
    assert not conn.must_close


def test_pipelining_is_bounded(engine: str) -> None:
    limits = Limits(max_pipelined_requests=3)
    outcome = parse_requests([GET * 5], engine, limits=limits)
    assert isinstance(outcome.error, RemoteProtocolError)
    assert outcome.error.status_hint == 429
    # The requests within the limit were delivered before the error.
    assert [type(e) for e in outcome.events] == [Request, EndOfMessage] * 3


def test_connection_close_is_honoured(engine: str) -> None:
    conn = server(engine, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    list(conn.events())
    wire = answer(conn)
    assert b"\r\nConnection: close\r\n" in wire
    assert conn.must_close
    with pytest.raises(LocalProtocolError):
        conn.send(Response(200, [(b"Content-Length", b"0")]))


def test_data_after_connection_close_is_an_error_after_the_request(engine: str) -> None:
    outcome = parse_requests(
        [b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" + GET], engine
    )
    assert [type(e) for e in outcome.events] == [Request, EndOfMessage]
    assert outcome.error is not None


def test_http10_closes_unless_keep_alive(engine: str) -> None:
    conn = server(engine, b"GET / HTTP/1.0\r\n\r\n")
    request = conn.next_event()
    assert isinstance(request, Request) and request.http_version == b"1.0"
    list(conn.events())
    wire = conn.send(Response(200, [])) + conn.send(Data(b"x")) + conn.send(EndOfMessage())
    # No Content-Length from the application: HTTP/1.0 bodies end at close.
    assert wire == b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nx"
    assert conn.must_close


def test_http10_keep_alive(engine: str) -> None:
    conn = server(engine, b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    list(conn.events())
    wire = answer(conn)
    assert b"\r\nConnection: keep-alive\r\n" in wire
    assert not conn.must_close
    conn.receive_data(b"GET /again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert [type(e) for e in conn.events()] == [Request, EndOfMessage]


def test_response_without_length_is_chunked_on_http11(engine: str) -> None:
    conn = server(engine, GET)
    list(conn.events())
    wire = conn.send(Response(200, [(b"Content-Type", b"text/plain")]))
    wire += conn.send(Data(b"abc")) + conn.send(Data(b"")) + conn.send(EndOfMessage())
    assert wire == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n"
    )


def test_trailers_are_sent_with_chunked(engine: str) -> None:
    conn = server(engine, GET)
    list(conn.events())
    conn.send(Response(200, [(b"Transfer-Encoding", b"chunked")]))
    assert conn.send(EndOfMessage([(b"X-Sum", b"1")])) == b"0\r\nX-Sum: 1\r\n\r\n"


def test_head_and_204_and_304_have_no_body(engine: str) -> None:
    conn = server(engine, b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
    list(conn.events())
    wire = conn.send(Response(200, [(b"Content-Length", b"10")])) + conn.send(EndOfMessage())
    assert wire == b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    for status in (204, 304):
        conn = server(engine, GET)
        list(conn.events())
        conn.send(Response(status, []))
        with pytest.raises(LocalProtocolError):
            conn.send(Data(b"x"))


def test_body_must_match_content_length(engine: str) -> None:
    conn = server(engine, GET)
    list(conn.events())
    conn.send(Response(200, [(b"Content-Length", b"3")]))
    with pytest.raises(LocalProtocolError):
        conn.send(Data(b"four"))
    conn.send(Data(b"ab"))
    with pytest.raises(LocalProtocolError):
        conn.send(EndOfMessage())


def test_expect_100_continue(engine: str) -> None:
    conn = server(
        engine,
        b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
    )
    assert [type(e) for e in conn.events()] == [Request]
    assert conn.client_is_waiting_for_100_continue
    assert conn.send(InformationalResponse(100)) == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert not conn.client_is_waiting_for_100_continue
    conn.receive_data(b"abc")
    assert list(conn.events()) == [Data(b"abc"), EndOfMessage()]


def test_expect_100_continue_ends_when_the_client_goes_ahead(engine: str) -> None:
    conn = server(
        engine,
        b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\na",
    )
    list(conn.events())
    assert not conn.client_is_waiting_for_100_continue


def test_upgrade_switches_with_trailing_data(engine: str) -> None:
    conn = server(
        engine,
        b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x00",
    )
    assert [type(e) for e in conn.events()] == [Request, EndOfMessage]
    assert conn.next_event() is PAUSED
    conn.receive_data(b"more")
    wire = conn.send(InformationalResponse(101, [(b"Upgrade", b"websocket")]))
    assert wire.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert conn.switched
    assert conn.trailing_data == (b"\x81\x00more", False)


def test_declined_upgrade_continues_as_http(engine: str) -> None:
    conn = server(
        engine,
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n" + GET,
    )
    assert [type(e) for e in conn.events()] == [Request, EndOfMessage]
    assert conn.next_event() is PAUSED
    answer(conn)
    assert [type(e) for e in conn.events()] == [Request, EndOfMessage]
    assert not conn.switched


def test_connect_tunnel(engine: str) -> None:
    conn = server(
        engine, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03"
    )
    request = conn.next_event()
    assert isinstance(request, Request) and request.target == b"example.com:443"
    conn.send(Response(200, []))
    conn.send(EndOfMessage())
    assert conn.switched and conn.must_close
    assert conn.trailing_data == (b"\x16\x03", False)


def test_eof_between_messages_and_inside_one(engine: str) -> None:
    conn = server(engine, GET)
    list(conn.events())
    conn.receive_data(b"")
    assert conn.next_event() == ConnectionClosed()
    outcome = parse_requests(
        [b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nshort"], engine, eof=True
    )
    assert [type(e) for e in outcome.events] == [Request, Data]
    assert outcome.error is not None  # never a complete, shorter body


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
        ),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\nx", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\nHost: a\n\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n",
            400,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n",
            400,
        ),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n0\r\n\r\n",
            400,
        ),
    ],
)
def test_malformed_requests_are_rejected(engine: str, data: bytes, status: int) -> None:
    outcome = parse_requests([data], engine, eof=True)
    assert outcome.error is not None, outcome
    assert outcome.error.status_hint == status
    assert EndOfMessage() not in outcome.events


@pytest.mark.parametrize(
    ("limits", "data", "status"),
    [
        (Limits(max_line_size=100), b"GET /" + b"a" * 200 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
        (
            Limits(max_field_size=100),
            b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"v" * 200 + b"\r\n\r\n",
            431,
        ),
        (
            Limits(max_field_size=100),
            b"GET / HTTP/1.1\r\nHost: a\r\n" + b"N" * 200 + b": v\r\n\r\n",
            431,
        ),
        (Limits(max_headers=5), b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X: y\r\n" * 10 + b"\r\n", 431),
        (
            Limits(max_head_size=1000),
            b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X: yyyyyyyy\r\n" * 200,
            431,
        ),
        (
            Limits(max_body_size=10),
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n",
            413,
        ),
        (
            Limits(max_body_size=10),
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n876",
            413,
        ),
    ],
)
def test_limits(engine: str, limits: Limits, data: bytes, status: int) -> None:
    outcome = parse_requests([data], engine, limits=limits)
    assert outcome.error is not None, outcome
    assert outcome.error.status_hint == status


def test_a_head_trickling_in_is_bounded(engine: str) -> None:
    limits = Limits(max_head_size=2000)
    conn = server(engine, limits=limits)
    conn.receive_data(b"GET / HTTP/1.1\r\nHost: a\r\nX-Long: ")
    with pytest.raises(RemoteProtocolError) as caught:
        for _ in range(3000):
            conn.receive_data(b"v")
            conn.next_event()
    assert caught.value.status_hint == 431


def test_nothing_before_bad_input_is_lost(engine: str) -> None:
    outcome = parse_requests([GET + b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n"], engine)
    assert [type(e) for e in outcome.events] == [Request, EndOfMessage]
    assert outcome.error is not None


def test_an_error_can_be_answered(engine: str) -> None:
    conn = server(engine, b"GARBAGE\r\n\r\n")
    with pytest.raises(RemoteProtocolError) as caught:
        conn.next_event()
    assert caught.value.status_hint == 400
    wire = conn.send(Response(400, [(b"Content-Length", b"0")])) + conn.send(EndOfMessage())
    assert wire == b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    assert conn.must_close


@pytest.mark.parametrize(
    "response",
    [
        Response(200, [(b"X", b"a\r\nInjected: yes")]),
        Response(200, [(b"X", b"a\nb")]),
        Response(200, [(b"X", b"a\x00b")]),
        Response(200, [(b"Bad Name", b"v")]),
        Response(200, [(b"X:Y", b"v")]),
        Response(200, [], reason=b"OK\r\nInjected: yes"),
        Response(99, []),
    ],
)
def test_header_injection_is_refused(engine: str, response: Response) -> None:
    conn = server(engine, GET)
    list(conn.events())
    with pytest.raises(LocalProtocolError):
        conn.send(response)
    # Nothing was committed: a valid response can still be sent.
    assert conn.send(Response(200, [(b"Content-Length", b"0")])).startswith(b"HTTP/1.1 200")


def test_there_must_be_a_request_to_answer(engine: str) -> None:
    conn = server(engine)
    with pytest.raises(LocalProtocolError):
        conn.send(Response(200, []))


def test_no_chunked_towards_an_http10_client(engine: str) -> None:
    conn = server(engine, b"GET / HTTP/1.0\r\n\r\n")
    list(conn.events())
    wire = conn.send(Response(200, [(b"Transfer-Encoding", b"chunked")]))
    wire += conn.send(Data(b"abc")) + conn.send(EndOfMessage())
    assert wire == b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc"
    assert conn.must_close
    conn = server(engine, b"GET / HTTP/1.0\r\n\r\n")
    list(conn.events())
    wire = conn.send(Response(204, [(b"Transfer-Encoding", b"chunked")]))
    assert wire == b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"


def test_line_ends_after_a_closing_request_are_ignored(engine: str) -> None:
    outcome = parse_requests(
        [b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n\r\n"], engine
    )
    assert outcome.error is None


def test_a_field_too_large_is_caught_across_small_feeds(engine: str) -> None:
    limits = Limits(max_field_size=100)
    head = b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"v" * 150 + b"\r\n\r\n"
    for cut in (60, 100, 120):  # the field starts in one feed and ends in a small one
        outcome = parse_requests([head[:cut], head[cut:]], engine, limits=limits)
        assert outcome.error is not None and outcome.error.status_hint == 431, cut


def test_bytes_before_a_switch_is_answered_are_bounded(engine: str) -> None:
    limits = Limits(max_head_size=1000)
    upgrade = b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
    conn = server(engine, upgrade, limits=limits)
    assert [type(e) for e in conn.events()] == [Request, EndOfMessage]
    for _ in range(20):
        conn.receive_data(b"x" * 100)
    with pytest.raises(RemoteProtocolError):
        conn.next_event()
    # Bytes past the switch were dropped, so switching now would lose them: refused.
    with pytest.raises(LocalProtocolError):
        conn.send(InformationalResponse(101, [(b"Upgrade", b"websocket")]))
    assert not conn.switched


def test_trailing_data_arriving_in_many_pieces_is_kept_whole(engine: str) -> None:
    upgrade = b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
    conn = server(engine, upgrade + b"a")
    list(conn.events())
    for piece in (b"b", b"c", b""):
        conn.receive_data(piece)
    conn.send(InformationalResponse(101, [(b"Upgrade", b"websocket")]))
    assert conn.trailing_data == (b"abc", True)
