"""ServerConnection.send_whole: the same bytes and state as Response + Data + EndOfMessage."""

from __future__ import annotations

import pytest

from treadle.protocol import (
    Data,
    EndOfMessage,
    InformationalResponse,
    LocalProtocolError,
    Response,
    ServerConnection,
)

REQUESTS = {
    "get": b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "head": b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
    "http10": b"GET / HTTP/1.0\r\n\r\n",
    "http10-keep-alive": b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "close": b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    "unread-body": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab",
}
RESPONSES = {
    "length": (200, [(b"Content-Length", b"5")], b"hello"),
    "no-length": (200, [(b"Content-Type", b"text/plain")], b"hello"),
    "empty-length": (200, [(b"Content-Length", b"0")], b""),
    "empty-no-length": (200, [], b""),
    "no-content": (204, [], b""),
    "not-modified": (304, [(b"Content-Length", b"5")], b""),
    "close": (200, [(b"Content-Length", b"5"), (b"Connection", b"close")], b"hello"),
    "chunked": (200, [(b"Transfer-Encoding", b"chunked")], b"hello"),
    "reason": (599, [(b"Content-Length", b"2")], b"ok"),
}


def _ready(engine: str, request: bytes) -> ServerConnection:
    conn = ServerConnection(engine=engine)
    conn.receive_data(request)
    list(conn.events())
    return conn


def _outcome(conn: ServerConnection, send: object) -> tuple[object, ...]:
    try:
        wire = send()  # type: ignore[operator]
    except LocalProtocolError as exc:
        return ("error", str(exc))
    return wire, conn.must_close, conn.pending_requests


@pytest.mark.parametrize("request_name", sorted(REQUESTS))
@pytest.mark.parametrize("response_name", sorted(RESPONSES))
def test_send_whole_matches_the_event_path(
    engine: str, request_name: str, response_name: str
) -> None:
    status, headers, body = RESPONSES[response_name]
    if request_name == "head" or status in (204, 304):
        body = b""  # such responses have no body: both paths refuse one alike below
    event_conn = _ready(engine, REQUESTS[request_name])
    whole_conn = _ready(engine, REQUESTS[request_name])
    reason = b"Custom" if response_name == "reason" else b""

    def by_events() -> bytes:
        out = event_conn.send(Response(status, list(headers), reason))
        if body:
            out += event_conn.send(Data(body))
        return out + event_conn.send(EndOfMessage())

    def whole() -> bytes:
        return whole_conn.send_whole(Response(status, list(headers), reason), body)

    expected = _outcome(event_conn, by_events)
    assert _outcome(whole_conn, whole) == expected
    assert expected[0] != "error"


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        ([(b"Content-Length", b"3")], b"hello", "longer"),
        ([(b"Content-Length", b"9")], b"hello", "shorter"),
        ([(b"Bad\r\nName", b"x")], b"", "invalid header name"),
    ],
)
def test_send_whole_refuses_what_the_event_path_refuses(
    engine: str, headers: list[tuple[bytes, bytes]], body: bytes, message: str
) -> None:
    conn = _ready(engine, REQUESTS["get"])
    with pytest.raises(LocalProtocolError, match=message):
        conn.send_whole(Response(200, headers), body)


def test_send_whole_takes_final_responses_only(engine: str) -> None:
    conn = _ready(engine, REQUESTS["get"])
    with pytest.raises(LocalProtocolError, match="final Response"):
        conn.send_whole(InformationalResponse(100), b"")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="final status"):
        conn.send_whole(Response(100), b"")


def test_pipelined_requests_are_answered_in_order(engine: str) -> None:
    conn = ServerConnection(engine=engine)
    conn.receive_data(REQUESTS["get"] * 3)
    assert len([event for event in conn.events() if isinstance(event, EndOfMessage)]) == 3
    for index in range(3):
        wire = conn.send_whole(Response(200, [(b"Content-Length", b"1")]), b"%d" % index)
        assert wire.endswith(b"\r\n\r\n%d" % index)
        assert conn.pending_requests == 2 - index
    assert not conn.must_close
    with pytest.raises(LocalProtocolError, match="no request"):
        conn.send_whole(Response(200, [(b"Content-Length", b"0")]))
