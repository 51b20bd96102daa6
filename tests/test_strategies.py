"""The public strategies are what they claim: valid cases parse to their events on every
engine (however the bytes are split) and round-trip; malformed ones are refused with
their status hint; WebSocket frames decode with wsproto, or fail with their close code."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsproto import ConnectionType, WSConnection
from wsproto import events as wsevents
from wsproto.frame_protocol import FrameProtocol, Opcode, ParseFailed

from treadle import strategies as ts
from treadle.protocol import (
    WS_ENGINE_NAMES,
    BytesMessage,
    ClientConnection,
    Close,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    HandshakeError,
    InformationalResponse,
    Ping,
    Pong,
    RemoteProtocolError,
    Request,
    Response,
    Sentinel,
    ServerConnection,
    ServerHandshake,
    TextMessage,
    WebSocketConnection,
    WebSocketProtocolError,
    available_engines,
)

ENGINES = available_engines()
engines = pytest.mark.parametrize("engine", ENGINES)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _merge(events: list[Event]) -> list[Event]:
    merged: list[Event] = []
    for event in events:
        if isinstance(event, Data) and merged and isinstance(merged[-1], Data):
            merged[-1] = Data(merged[-1].data + event.data)
        else:
            merged.append(event)
    return merged


def _drain(conn: ServerConnection | ClientConnection, into: list[Event]) -> None:
    while True:
        event = conn.next_event()
        if isinstance(event, (Sentinel, ConnectionClosed)):
            return
        into.append(event)


def _parse_requests(pieces: list[bytes], engine: str) -> list[Event]:
    conn = ServerConnection(engine=engine)
    events: list[Event] = []
    for piece in [*pieces, b""]:
        conn.receive_data(piece)
        _drain(conn, events)
    return _merge(events)


def _parse_response(method: bytes, pieces: list[bytes], engine: str) -> list[Event]:
    conn = ClientConnection(engine=engine)
    conn.send(Request(method, b"/", [(b"Host", b"example.test")]))
    conn.send(EndOfMessage())
    events: list[Event] = []
    for piece in [*pieces, b""]:
        conn.receive_data(piece)
        _drain(conn, events)
    return _merge(events)


# -- valid HTTP -----------------------------------------------------------------------


@engines
@FAST
@given(data=st.data())
def test_requests_parse_to_their_events(engine: str, data: st.DataObject) -> None:
    case = data.draw(ts.pipelined_requests())
    pieces = data.draw(ts.split(case.data))
    assert b"".join(pieces) == case.data
    assert _parse_requests(pieces, engine) == case.events
    assert sum(isinstance(event, Request) for event in case.events) == case.count


@engines
@FAST
@given(data=st.data())
def test_responses_parse_to_their_events(engine: str, data: st.DataObject) -> None:
    case = data.draw(ts.responses())
    pieces = data.draw(ts.split(case.data))
    assert _parse_response(case.method, pieces, engine) == case.events


@engines
@FAST
@given(data=st.data())
def test_request_events_round_trip(engine: str, data: st.DataObject) -> None:
    """The events of a case, sent by a client, parse back to themselves."""
    case = data.draw(ts.requests())
    client = ClientConnection(engine=engine)
    wire = b"".join(client.send(event) for event in case.events)
    assert _parse_requests([wire], engine) == case.events


def _heads_as_sent(events: list[Event], like: list[Event]) -> list[object]:
    """Response heads as a server re-sends them: always HTTP/1.1, and its standard
    reason phrase where the original had none; everything else must be identical."""
    out: list[object] = []
    for event, original in zip(events, like, strict=False):
        if isinstance(event, (Response, InformationalResponse)):
            assert isinstance(original, (Response, InformationalResponse))
            reason = event.reason if original.reason else b""
            out.append((type(event), event.status_code, event.headers, reason))
        else:
            out.append(event)
    return out


@engines
@FAST
@given(case=ts.responses(last=False))
def test_response_events_round_trip(engine: str, case: ts.ResponseCase) -> None:
    server = ServerConnection(engine=engine)
    server.receive_data(b"%s / HTTP/1.1\r\nHost: example.test\r\n\r\n" % case.method)
    assert [type(event) for event in server.events()] == [Request, EndOfMessage]
    wire = b"".join(server.send(event) for event in case.events)
    got = _parse_response(case.method, [wire], engine)
    assert len(got) == len(case.events)
    assert _heads_as_sent(got, case.events) == _heads_as_sent(case.events, case.events)


@FAST
@given(fields=ts.headers(min_size=1, duplicates=False), chunked=ts.chunked_bodies())
def test_header_and_body_pieces(
    fields: list[tuple[bytes, bytes]], chunked: tuple[bytes, bytes, list[tuple[bytes, bytes]]]
) -> None:
    names = [name.lower() for name, _ in fields]
    assert len(set(names)) == len(names)
    for name, value in fields:
        assert TOKEN.fullmatch(name) and name.lower() not in ts.FRAMING_NAMES
        assert value == value.strip(b" \t") and not re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", value)
    wire, body, trailers = chunked
    head = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    expected = ts.body_events(body, trailers)
    for engine in ENGINES:
        assert _parse_requests([head + wire], engine)[1:] == expected


# -- malformed HTTP -------------------------------------------------------------------


def _refusal(parse: object) -> RemoteProtocolError:
    try:
        parse()  # type: ignore[operator]
    except RemoteProtocolError as exc:
        return exc
    raise AssertionError("accepted")


@engines
@FAST
@given(data=st.data())
def test_malformed_requests_are_refused(engine: str, data: st.DataObject) -> None:
    case = data.draw(ts.malformed_requests())
    pieces = data.draw(ts.split(case.data))
    error = _refusal(lambda: _parse_requests(pieces, engine))
    assert error.status_hint == case.status_hint, (case.defect, error)


@engines
@FAST
@given(data=st.data())
def test_malformed_responses_are_refused(engine: str, data: st.DataObject) -> None:
    case = data.draw(ts.malformed_responses())
    pieces = data.draw(ts.split(case.data))
    error = _refusal(lambda: _parse_response(b"GET", pieces, engine))
    assert error.status_hint == case.status_hint, (case.defect, error)


@pytest.mark.parametrize("defect", ts.REQUEST_DEFECTS)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_every_request_defect_is_refused_by_every_engine(defect: str, data: st.DataObject) -> None:
    case = data.draw(ts.malformed_requests(defects=(defect,)))
    assert case.defect == defect
    for engine in ENGINES:
        error = _refusal(lambda engine=engine: _parse_requests([case.data], engine))
        assert error.status_hint == case.status_hint, (engine, error)


@pytest.mark.parametrize("defect", ts.RESPONSE_DEFECTS)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_every_response_defect_is_refused_by_every_engine(defect: str, data: st.DataObject) -> None:
    case = data.draw(ts.malformed_responses(defects=(defect,)))
    for engine in ENGINES:
        error = _refusal(lambda engine=engine: _parse_response(b"GET", [case.data], engine))
        assert error.status_hint == case.status_hint, (engine, error)


def _outcome(raw: bytes, engine: str) -> object:
    try:
        return _parse_requests([raw], engine)
    except RemoteProtocolError as exc:
        return exc.status_hint


@FAST
@given(data=st.data())
def test_mutated_bytes_parse_or_are_refused_alike(data: st.DataObject) -> None:
    """Random corruption may stay valid; whatever it is, every engine says the same."""
    raw = data.draw(ts.mutated(data.draw(ts.requests()).data))
    outcomes = [_outcome(raw, engine) for engine in ENGINES]
    assert all(outcome == outcomes[0] for outcome in outcomes), outcomes


# -- WebSocket ------------------------------------------------------------------------


def _ws_receive(data: bytes, *, masked: bool) -> list[tuple[int, bytes]]:
    """What a wsproto endpoint reads: the server side reads masked frames."""
    protocol = FrameProtocol(client=not masked, extensions=[])
    protocol.receive_bytes(data)
    messages: list[tuple[int, bytes]] = []
    pending: dict[int, bytes] = {}
    for frame in protocol.received_frames():
        opcode, payload = frame.opcode, cast(Any, frame.payload)
        if opcode is Opcode.CLOSE:
            code, reason = payload
            data = b"" if code == 1005 else code.to_bytes(2, "big") + reason.encode()
            messages.append((Opcode.CLOSE.value, data))
            continue
        if opcode.iscontrol():
            messages.append((opcode.value, bytes(payload)))
            continue
        piece = payload.encode() if isinstance(payload, str) else bytes(payload)
        pending[opcode.value] = pending.get(opcode.value, b"") + piece
        if frame.message_finished:
            messages.append((opcode.value, pending.pop(opcode.value)))
    return messages


@pytest.mark.parametrize("masked", [True, False], ids=["client-frames", "server-frames"])
@FAST
@given(data=st.data())
def test_ws_frames_decode(masked: bool, data: st.DataObject) -> None:
    frame = data.draw(ts.ws_frames(masked=masked))
    assert (frame.mask is not None) == masked
    assert _ws_receive(frame.data, masked=masked) == [(frame.opcode, frame.payload)]


@pytest.mark.parametrize("masked", [True, False], ids=["client-frames", "server-frames"])
@FAST
@given(data=st.data())
def test_ws_streams_decode_to_their_messages(masked: bool, data: st.DataObject) -> None:
    case = data.draw(ts.ws_streams(masked=masked))
    assert b"".join(frame.data for frame in case.frames) == case.data
    assert _ws_receive(case.data, masked=masked) == case.messages


@pytest.mark.parametrize("masked", [True, False], ids=["client-frames", "server-frames"])
@pytest.mark.parametrize("defect", ts.WS_DEFECTS)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_malformed_ws_frames_fail(masked: bool, defect: str, data: st.DataObject) -> None:
    case = data.draw(ts.malformed_ws_frames(masked=masked, defects=(defect,)))
    with pytest.raises(ParseFailed) as info:
        _ws_receive(case.data, masked=masked)
    assert info.value.code == case.close_code


def _core_events(messages: list[tuple[int, bytes]]) -> list[Event]:
    """The ``treadle.protocol`` WebSocket events a stream's messages are."""
    events: list[Event] = []
    for opcode, payload in messages:
        if opcode == ts.TEXT:
            events.append(TextMessage(payload.decode("utf-8")))
        elif opcode == ts.BINARY:
            events.append(BytesMessage(payload))
        elif opcode == ts.PING:
            events.append(Ping(payload))
        elif opcode == ts.PONG:
            events.append(Pong(payload))
        elif payload:
            events.append(Close(int.from_bytes(payload[:2], "big"), payload[2:].decode("utf-8")))
        else:
            events.append(Close(1005))
    return events


def _core_receive(data: bytes, *, masked: bool, engine: str) -> list[Event]:
    conn = WebSocketConnection("server" if masked else "client", engine=engine)
    conn.receive_data(data)
    return [event for event in conn.events() if not isinstance(event, ConnectionClosed)]


ws_engines = pytest.mark.parametrize("engine", WS_ENGINE_NAMES)


@ws_engines
@pytest.mark.parametrize("masked", [True, False], ids=["client-frames", "server-frames"])
@FAST
@given(data=st.data())
def test_ws_streams_decode_with_the_websocket_core(
    engine: str, masked: bool, data: st.DataObject
) -> None:
    case = data.draw(ts.ws_streams(masked=masked))
    pieces = data.draw(ts.split(case.data))
    conn = WebSocketConnection("server" if masked else "client", engine=engine)
    events: list[Event] = []
    for piece in pieces:
        conn.receive_data(piece)
        events += [event for event in conn.events() if not isinstance(event, ConnectionClosed)]
    assert events == _core_events(case.messages)


@ws_engines
@pytest.mark.parametrize("masked", [True, False], ids=["client-frames", "server-frames"])
@pytest.mark.parametrize("defect", ts.WS_DEFECTS)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_malformed_ws_frames_fail_the_websocket_core(
    engine: str, masked: bool, defect: str, data: st.DataObject
) -> None:
    case = data.draw(ts.malformed_ws_frames(masked=masked, defects=(defect,)))
    with pytest.raises(WebSocketProtocolError) as info:
        _core_receive(case.data, masked=masked, engine=engine)
    assert info.value.code == case.close_code


def _handshake_request(case: ts.WSHandshakeCase, engine: str) -> Request:
    conn = ServerConnection(engine=engine)
    conn.receive_data(case.data)
    event = conn.next_event()
    assert isinstance(event, Request)
    return event


@engines
@FAST
@given(case=ts.ws_handshakes())
def test_ws_handshakes_are_accepted_with_their_key(engine: str, case: ts.WSHandshakeCase) -> None:
    request = _handshake_request(case, engine)
    assert request == case.request
    handshake = ServerHandshake(request.method, request.headers, request.http_version)
    assert handshake.offered_protocols == case.protocols
    headers, protocol, _ = handshake.accept(protocols=case.protocols[-1:])
    assert (b"Sec-WebSocket-Accept", case.accept) in headers
    assert protocol == (case.protocols[-1] if case.protocols else None)


@FAST
@given(case=ts.ws_handshakes())
def test_ws_handshakes_are_accepted_by_wsproto(case: ts.WSHandshakeCase) -> None:
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(case.data)
    (request,) = server.events()
    assert isinstance(request, wsevents.Request)
    assert request.subprotocols == case.protocols
    answer = server.send(wsevents.AcceptConnection())
    assert b"Sec-WebSocket-Accept: " + case.accept + b"\r\n" in answer


@engines
@pytest.mark.parametrize("defect", ts.WS_HANDSHAKE_DEFECTS)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_malformed_ws_handshakes_are_refused(engine: str, defect: str, data: st.DataObject) -> None:
    case = data.draw(ts.malformed_ws_handshakes(defects=(defect,)))
    request = _handshake_request(case, engine)
    with pytest.raises(HandshakeError) as info:
        ServerHandshake(request.method, request.headers, request.http_version)
    assert info.value.status_hint == case.status_hint


def test_encode_frame_matches_rfc_6455_examples() -> None:
    # RFC 6455 5.7: a single-frame unmasked and masked text message "Hello".
    assert ts.encode_frame(ts.TEXT, b"Hello") == bytes.fromhex("810548656c6c6f")
    masked = ts.encode_frame(ts.TEXT, b"Hello", mask=bytes.fromhex("37fa213d"))
    assert masked == bytes.fromhex("818537fa213d7f9f4d5158")
    # A fragmented unmasked text message, and a 256-byte binary message (16-bit length).
    assert ts.encode_frame(ts.TEXT, b"Hel", fin=False) == bytes.fromhex("010348656c")
    assert ts.encode_frame(ts.CONTINUATION, b"lo") == bytes.fromhex("80026c6f")
    assert ts.encode_frame(ts.BINARY, bytes(256))[:4] == bytes.fromhex("827e0100")
    assert ts.encode_frame(ts.BINARY, bytes(65536))[:10] == bytes.fromhex("827f0000000000010000")
    # RFC 6455 1.3: the sample nonce and the accept value it calls for.
    assert ts.accept_for(b"dGhlIHNhbXBsZSBub25jZQ==") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_import_without_hypothesis_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "try:\n    import treadle.strategies\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "treadle[hypothesis]" in out
