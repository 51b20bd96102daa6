"""``receive_message``: the one-whole-frame fast path agrees with receive_data + events."""

from __future__ import annotations

import pytest

from treadle.protocol import (
    BytesMessage,
    Event,
    TextMessage,
    WebSocketConnection,
    WebSocketProtocolError,
)

from ._ws_support import ENGINES


def slow(conn: WebSocketConnection, data: bytes) -> list[Event] | str:
    try:
        conn.receive_data(data)
        return list(conn.events())
    except WebSocketProtocolError as exc:
        return f"error {exc.code}"


def fast(conn: WebSocketConnection, data: bytes) -> list[Event] | str:
    message = conn.receive_message(data)
    if message is None:
        return slow(conn, data)
    return [TextMessage(message) if isinstance(message, str) else BytesMessage(message)]


def peer_of(side: str) -> WebSocketConnection:
    return WebSocketConnection("server" if side == "client" else "client")


def inputs(side: str) -> list[bytes]:
    p = peer_of(side)
    frame = p.send_text("héllo")
    other = WebSocketConnection(side)  # the wrong side: masked at a client, or not
    return [
        frame,
        p.send_bytes(b"\x00" * 125),
        p.send_bytes(b"x" * 126),  # 2-byte length: the ordinary path
        p.send_text(""),
        frame[:-1],  # incomplete
        frame + p.send_text("second"),  # two frames
        frame[:2],
        bytes([0x81, frame[1]]) + frame[2:-2] + b"\xff\xfe",  # unmasked text: bad UTF-8
        other.send_text("wrong side"),
        p.ping(b"p"),
        p.close(1000),
    ]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.parametrize("case", range(11))
def test_same_outcome_as_events(engine: str, side: str, case: int) -> None:
    data = inputs(side)[case]
    a = WebSocketConnection(side, engine=engine)  # type: ignore[arg-type]
    b = WebSocketConnection(side, engine=engine)  # type: ignore[arg-type]
    assert fast(a, data) == slow(b, data)
    assert a.state == b.state
    # What each answered (a Close failing the connection), as the peer reads it: a
    # client masks with a random key, so the bytes themselves differ.
    assert slow(peer_of(side), a.data_to_send()) == slow(peer_of(side), b.data_to_send())
    follow = peer_of(side).send_text("after")
    assert fast(a, follow) == slow(b, follow)


@pytest.mark.parametrize("side", ["client", "server"])
def test_declines_with_bytes_pending_a_limit_or_after_eof(side: str) -> None:
    p = peer_of(side)
    frame = p.send_text("abc")
    conn = WebSocketConnection(side)
    assert conn.receive_message(frame) == "abc"
    conn.receive_data(frame[:3])  # a partial frame waits
    assert conn.receive_message(frame) is None
    conn.receive_data(frame[3:])
    assert list(conn.events()) == [TextMessage("abc")]
    limited = WebSocketConnection(side, max_message_size=2)
    assert limited.receive_message(frame) is None
    with pytest.raises(WebSocketProtocolError):
        limited.receive_data(frame)
        list(limited.events())
    ended = WebSocketConnection(side)
    ended.receive_data(b"")
    assert ended.receive_message(frame) is None


def test_wsproto_engine_has_no_fast_path() -> None:
    conn = WebSocketConnection("client", engine="wsproto")
    assert conn.receive_message(WebSocketConnection("server").send_text("x")) is None


def test_a_bytearray_goes_the_ordinary_way() -> None:
    frame = WebSocketConnection("server").send_bytes(b"abc")
    conn = WebSocketConnection("client")
    assert conn.receive_message(bytearray(frame)) is None
    assert conn.receive_message(frame) == b"abc"
