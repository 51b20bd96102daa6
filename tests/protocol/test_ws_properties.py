"""Hypothesis properties of the WebSocket core, on both frame engines.

1. split invariance: how bytes are cut never changes the events or the close code;
2. round trip: what one side sends (any messages, with and without deflate) the other
   side parses back to the same events;
3. robustness: any bytes give events and at most a ``WebSocketProtocolError`` whose
   close code is one we send (1002, 1007, 1009), never another exception;
4. differential: the fast and wsproto engines reach identical outcomes on valid and
   mutated streams.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from treadle.protocol import (
    BytesMessage,
    Close,
    Event,
    PerMessageDeflate,
    Ping,
    Pong,
    TextMessage,
    WebSocketConnection,
)

from ._ws_support import ENGINES, Outcome, drive, frame

_SCALE = float(os.environ.get("TREADLE_PROPERTY_SCALE", "1"))
FAST = settings(
    max_examples=int(60 * _SCALE),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CODES = {1002, 1007, 1009}

messages = st.one_of(
    st.text(max_size=300).map(TextMessage),
    st.binary(max_size=3000).map(BytesMessage),
    st.binary(max_size=125).map(Ping),
    st.binary(max_size=125).map(Pong),
)

# Frames a client might send, valid or not: any opcode, flags, payloads, masks.
raw_frames = st.builds(
    frame,
    st.sampled_from([0, 1, 2, 3, 8, 9, 10, 11]),
    st.one_of(
        st.binary(max_size=200),
        st.text(max_size=60).map(str.encode),
        st.sampled_from([b"\x03\xe8", b"\x03\xe8bye", b"\x0f\xa0", b"\x03", b"\xc0\xaf"]),
    ),
    fin=st.booleans(),
    rsv=st.sampled_from([0, 0, 0, 4, 2, 1]),
    mask=st.sampled_from([b"\x01\x02\x03\x04", b"\x00\x00\x00\x00", None]),
)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for point in points:
        pieces.append(data[last:point])
        last = point
    pieces.append(data[last:])
    return [p for p in pieces if p]


def outcome(data: list[bytes], engine: str, **kw: object) -> Outcome:
    conn = WebSocketConnection("server", engine=engine, **kw)  # type: ignore[arg-type]
    return drive(conn, data)


@FAST
@given(st.lists(raw_frames, max_size=8), st.lists(st.integers(0, 10_000), max_size=6))
def test_split_invariance(frames: list[bytes], cuts: list[int]) -> None:
    data = b"".join(frames)
    for engine in ENGINES:
        whole = outcome([data], engine, max_message_size=500, max_fragments=4)
        assert outcome(split(data, cuts), engine, max_message_size=500, max_fragments=4).key() == (
            whole.key()
        )


@FAST
@given(st.lists(messages, max_size=8), st.booleans(), st.lists(st.integers(0, 10**5)))
def test_round_trip(sent: list[Event], compress: bool, cuts: list[int]) -> None:
    deflate = PerMessageDeflate() if compress else None
    for engine in ENGINES:
        for side, other in (("client", "server"), ("server", "client")):
            a = WebSocketConnection(side, engine=engine, deflate=deflate)  # type: ignore[arg-type]
            b = WebSocketConnection(other, engine=engine, deflate=deflate)  # type: ignore[arg-type]
            wire = b"".join(a.send(m) for m in sent) + a.close(4321, "done")
            result = drive(b, split(wire, cuts))
            assert result.code is None
            assert result.events == [*sent, Close(4321, "done")]


@FAST
@given(st.binary(max_size=400), st.booleans())
def test_random_bytes_only_give_events_or_a_close_code(data: bytes, compress: bool) -> None:
    for engine in ENGINES:
        for side in ("client", "server"):
            conn = WebSocketConnection(
                side,  # type: ignore[arg-type]
                engine=engine,
                max_message_size=300,
                deflate=PerMessageDeflate() if compress else None,
            )
            result = drive(conn, [data], eof=True)
            assert result.code is None or result.code in CODES
            if result.code is not None:
                assert result.sent[0] == 0x88  # the Close that fails the connection


@FAST
@given(st.lists(raw_frames, min_size=1, max_size=8), st.booleans(), st.data())
def test_engines_agree(frames: list[bytes], compress: bool, data: st.DataObject) -> None:
    stream = bytearray(b"".join(frames))
    if data.draw(st.booleans()):  # mutate a few bytes of the stream
        for _ in range(data.draw(st.integers(1, 3))):
            index = data.draw(st.integers(0, len(stream) - 1))
            stream[index] = data.draw(st.integers(0, 255))
    deflate = PerMessageDeflate() if compress else None
    results = {
        engine: outcome([bytes(stream)], engine, max_message_size=150, deflate=deflate).key()
        for engine in ENGINES
    }
    assert results["fast"] == results["wsproto"]


@FAST
@given(st.lists(messages, min_size=1, max_size=6))
def test_engines_send_the_same_frames_for_servers(sent: list[Event]) -> None:
    # Server frames carry no random mask, so both engines must emit identical bytes.
    wires = [
        b"".join(WebSocketConnection("server", engine=e).send(m) for m in sent) for e in ENGINES
    ]
    assert wires[0] == wires[1]
