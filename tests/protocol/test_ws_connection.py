"""WebSocketConnection: bytes in / events out on both sides, on every frame engine."""

from __future__ import annotations

import pytest

from treadle.protocol import (
    NEED_DATA,
    BytesMessage,
    Close,
    ConnectionClosed,
    LocalProtocolError,
    Ping,
    Pong,
    TextMessage,
    WebSocketConnection,
    WebSocketProtocolError,
    WSState,
)

from ._ws_support import ENGINES, client_frame, drive, server_frame


@pytest.fixture(params=ENGINES)
def ws_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def server(ws_engine: str, **kw: object) -> WebSocketConnection:
    return WebSocketConnection("server", engine=ws_engine, **kw)  # type: ignore[arg-type]


def client(ws_engine: str, **kw: object) -> WebSocketConnection:
    return WebSocketConnection("client", engine=ws_engine, **kw)  # type: ignore[arg-type]


def close_code(data: bytes) -> int:
    """The code in an unmasked or masked Close frame we sent."""
    assert data[0] == 0x88
    if data[1] & 0x80:
        from treadle.protocol._ws_mask import python_mask

        payload = python_mask(data[6:], data[2:6])
    else:
        payload = data[2:]
    return int.from_bytes(payload[:2], "big")


# -- round trips -----------------------------------------------------------------------


def test_messages_both_directions(ws_engine: str) -> None:
    c, s = client(ws_engine), server(ws_engine)
    wire = c.send_text("héllo") + c.send_bytes(b"\x00\xff" * 40000) + c.ping(b"p")
    s.receive_data(wire + c.pong(b"q"))
    assert list(s.events()) == [
        TextMessage("héllo"),
        BytesMessage(b"\x00\xff" * 40000),
        Ping(b"p"),
        Pong(b"q"),
    ]
    c.receive_data(s.send_text("x" * 200) + s.send(BytesMessage(b"")) + s.send(Ping(b"")))
    assert list(c.events()) == [TextMessage("x" * 200), BytesMessage(b""), Ping(b"")]
    assert s.next_event() is NEED_DATA


def test_one_byte_at_a_time(ws_engine: str) -> None:
    c, s = client(ws_engine), server(ws_engine)
    wire = c.send_text("a" * 300) + c.send_bytes(b"b" * 70000)
    events = []
    for i in range(len(wire)):
        s.receive_data(wire[i : i + 1])
        events.extend(s.events())
    assert events == [TextMessage("a" * 300), BytesMessage(b"b" * 70000)]


def test_fragmented_message_with_interleaved_control_frames(ws_engine: str) -> None:
    s = server(ws_engine)
    wire = (
        client_frame(1, "hé".encode()[:2], fin=False)
        + client_frame(9, b"ping")
        + client_frame(0, "hé".encode()[2:], fin=False)
        + client_frame(0, b"llo")
    )
    assert drive(s, [wire]).events == [Ping(b"ping"), TextMessage("héllo")]


# -- closing handshake -------------------------------------------------------------------


def test_local_close_then_reply(ws_engine: str) -> None:
    c, s = client(ws_engine), server(ws_engine)
    s.receive_data(c.close(1001, "going"))
    assert c.state is WSState.LOCAL_CLOSING
    assert list(s.events()) == [Close(1001, "going")]
    assert s.state is WSState.CLOSED
    reply = s.data_to_send()
    assert close_code(reply) == 1001
    c.receive_data(reply)
    assert list(c.events()) == [Close(1001, "")]
    assert c.state is WSState.CLOSED
    with pytest.raises(LocalProtocolError):
        c.send_text("too late")


def test_data_still_delivered_while_local_closing(ws_engine: str) -> None:
    c, s = client(ws_engine), server(ws_engine)
    c.close()
    c.receive_data(s.send_text("in flight") + s.close())
    assert list(c.events()) == [TextMessage("in flight"), Close(1000, "")]
    assert c.state is WSState.CLOSED


def test_without_auto_close_the_application_answers(ws_engine: str) -> None:
    c, s = client(ws_engine), server(ws_engine, auto_close=False)
    s.receive_data(c.close(4000, "app"))
    assert list(s.events()) == [Close(4000, "app")]
    assert s.state is WSState.REMOTE_CLOSING and s.data_to_send() == b""
    c.receive_data(s.send_text("last words") + s.close(4000))
    assert s.state is WSState.CLOSED
    assert list(c.events()) == [TextMessage("last words"), Close(4000, "")]


def test_empty_close_is_1005_and_answered_empty(ws_engine: str) -> None:
    s = server(ws_engine)
    outcome = drive(s, [client_frame(8)])
    assert outcome.events == [Close(1005, "")]
    assert outcome.sent == b"\x88\x00"


def test_frames_after_the_closing_handshake_are_dropped(ws_engine: str) -> None:
    s = server(ws_engine)
    outcome = drive(s, [client_frame(8, b"\x03\xe8") + client_frame(1, b"ignored")])
    assert outcome.events == [Close(1000, "")]


def test_eof_gives_connection_closed(ws_engine: str) -> None:
    s = server(ws_engine)
    outcome = drive(s, [client_frame(1, b"hi") + client_frame(2, b"par", fin=False)], eof=True)
    assert outcome.events == [TextMessage("hi"), ConnectionClosed()]
    assert s.state is WSState.CLOSED


# -- protocol errors and their codes -------------------------------------------------------

PROTOCOL_ERRORS = {
    "reserved opcode 3": client_frame(3, b"x"),
    "reserved control opcode 0xB": client_frame(0xB),
    "rsv1 without extension": client_frame(1, b"x", rsv=4),
    "rsv2": client_frame(2, b"x", rsv=2),
    "rsv3": client_frame(2, b"x", rsv=1),
    "control frame over 125": client_frame(9, b"x" * 126),
    "fragmented control frame": client_frame(9, b"x", fin=False),
    "continuation without message": client_frame(0, b"x"),
    "new message inside a fragmented one": client_frame(1, b"a", fin=False) + client_frame(2, b"b"),
    "non-minimal 16-bit length": client_frame(2, b"x" * 10, long_form=126),
    "non-minimal 64-bit length": client_frame(2, b"x" * 10, long_form=127),
    "64-bit length with top bit": client_frame(2, b"", length=1 << 63, long_form=127),
    "close with 1-byte payload": client_frame(8, b"\x03"),
    "unmasked frame at a server": server_frame(1, b"x"),
}


@pytest.mark.parametrize("name", sorted(PROTOCOL_ERRORS))
def test_protocol_errors_close_with_1002(ws_engine: str, name: str) -> None:
    s = server(ws_engine, max_message_size=0)
    outcome = drive(s, [client_frame(1, b"before") + PROTOCOL_ERRORS[name]])
    assert outcome.events == [TextMessage("before")]  # nothing received earlier is lost
    assert outcome.code == 1002
    assert close_code(outcome.sent) == 1002
    assert s.state is WSState.CLOSED
    with pytest.raises(WebSocketProtocolError):  # the error sticks
        s.next_event()


def test_masked_frame_at_a_client_is_1002(ws_engine: str) -> None:
    c = client(ws_engine)
    outcome = drive(c, [client_frame(1, b"x")])
    assert outcome.code == 1002
    assert outcome.sent[1] & 0x80  # the client's own Close is masked


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_invalid_close_codes_are_1002(ws_engine: str, code: int) -> None:
    outcome = drive(server(ws_engine), [client_frame(8, code.to_bytes(2, "big"))])
    assert outcome.code == 1002


@pytest.mark.parametrize("code", [1000, 1003, 1007, 1011, 1014, 3000, 4999])
def test_valid_close_codes_are_accepted(ws_engine: str, code: int) -> None:
    outcome = drive(server(ws_engine), [client_frame(8, code.to_bytes(2, "big") + b"ok")])
    assert outcome.events == [Close(code, "ok")]
    assert close_code(outcome.sent) == code


def test_close_reason_must_be_utf8(ws_engine: str) -> None:
    outcome = drive(server(ws_engine), [client_frame(8, b"\x03\xe8\xff")])
    assert outcome.code == 1007


def test_invalid_utf8_text_is_1007(ws_engine: str) -> None:
    assert drive(server(ws_engine), [client_frame(1, b"ok\xc0\xafno")]).code == 1007


def test_invalid_utf8_fails_fast_in_the_first_fragment(ws_engine: str) -> None:
    # Only the first fragment arrived: the message is refused before it is complete.
    outcome = drive(server(ws_engine), [client_frame(1, b"\xed\xa0\x80", fin=False)])
    assert outcome.code == 1007


def test_utf8_split_across_fragments_is_fine(ws_engine: str) -> None:
    euro = "€".encode()
    wire = b"".join(client_frame(0 if i else 1, euro[i : i + 1], fin=i == 2) for i in range(3))
    assert drive(server(ws_engine), [wire]).events == [TextMessage("€")]


def test_truncated_utf8_at_message_end_is_1007(ws_engine: str) -> None:
    wire = client_frame(1, "€".encode()[:2], fin=False) + client_frame(0, b"")
    assert drive(server(ws_engine), [wire]).code == 1007


# -- limits ------------------------------------------------------------------------------


def test_oversized_frame_refused_from_its_header(ws_engine: str) -> None:
    s = server(ws_engine, max_message_size=1000)
    head = client_frame(2, b"", length=10_000_000)  # the header and mask only
    assert drive(s, [head]).code == 1009


def test_message_size_counts_every_fragment(ws_engine: str) -> None:
    s = server(ws_engine, max_message_size=1000)
    wire = b"".join(client_frame(0 if i else 2, b"x" * 300, fin=False) for i in range(4))
    assert drive(s, [wire]).code == 1009


def test_message_at_the_limit_passes(ws_engine: str) -> None:
    s = server(ws_engine, max_message_size=1000)
    assert drive(s, [client_frame(2, b"x" * 1000)]).events == [BytesMessage(b"x" * 1000)]


def test_fragment_cap(ws_engine: str) -> None:
    s = server(ws_engine, max_fragments=10)
    ok = b"".join(client_frame(0 if i else 2, b"", fin=i == 9) for i in range(10))
    assert drive(s, [ok]).events == [BytesMessage(b"")]
    too_many = b"".join(client_frame(0 if i else 2, b"", fin=False) for i in range(11))
    assert drive(s, [too_many]).code == 1009


# -- what we may send ----------------------------------------------------------------------


def test_local_errors(ws_engine: str) -> None:
    c = client(ws_engine)
    with pytest.raises(LocalProtocolError):
        c.ping(b"x" * 126)
    with pytest.raises(LocalProtocolError):
        c.close(1006)
    with pytest.raises(LocalProtocolError):
        c.close(1000, "é" * 62)
    with pytest.raises(LocalProtocolError):
        c.send(ConnectionClosed())
    assert c.state is WSState.OPEN  # nothing was sent
    c.close(1005)  # a Close without a code
    with pytest.raises(LocalProtocolError):
        c.send_bytes(b"after close")
    with pytest.raises(LocalProtocolError):
        c.close()


def test_unknown_side_and_engine() -> None:
    with pytest.raises(ValueError):
        WebSocketConnection("peer")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        WebSocketConnection("client", engine="nope")


def test_engine_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TREADLE_WS_ENGINE", "wsproto")
    assert WebSocketConnection("client").engine == "wsproto"
    monkeypatch.delenv("TREADLE_WS_ENGINE")
    assert WebSocketConnection("client").engine == "fast"
