"""Large frames: gathered in chunks while incomplete, and sent as (head, body) parts."""

from __future__ import annotations

import pytest

from treadle.protocol import (
    BytesMessage,
    ConnectionClosed,
    Event,
    PerMessageDeflate,
    TextMessage,
    WebSocketConnection,
    WebSocketProtocolError,
)
from treadle.protocol._ws_frames import GATHER_SIZE

from ._ws_support import ENGINES

BIG = bytes(range(256)) * (GATHER_SIZE // 64) + b"tail"  # 4 x GATHER_SIZE + 4
TEXT = "é" * (GATHER_SIZE // 2 + 3)


@pytest.fixture(params=ENGINES)
def ws_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def feed(conn: WebSocketConnection, wire: bytes, chunk: int) -> list[Event]:
    out: list[Event] = []
    for i in range(0, len(wire), chunk):
        conn.receive_data(wire[i : i + chunk])
        out.extend(conn.events())
    return out


@pytest.mark.parametrize("chunk", [1000, 7777, GATHER_SIZE, 1 << 20])
@pytest.mark.parametrize("side", ["client", "server"])
def test_large_frames_in_chunks(ws_engine: str, side: str, chunk: int) -> None:
    """Large frames among small ones, cut anywhere (the next frame starting mid-chunk)."""
    sender = WebSocketConnection("server" if side == "client" else "client")
    wire = (
        sender.send_bytes(BIG)
        + sender.send_text("a")
        + sender.send_text(TEXT)
        + sender.send_bytes(BIG[:GATHER_SIZE])
        + sender.send_bytes(b"")
    )
    receiver = WebSocketConnection(side, engine=ws_engine)  # type: ignore[arg-type]
    assert feed(receiver, wire, chunk) == [
        BytesMessage(BIG),
        TextMessage("a"),
        TextMessage(TEXT),
        BytesMessage(BIG[:GATHER_SIZE]),
        BytesMessage(b""),
    ]


def test_large_frame_one_byte_at_a_time(ws_engine: str) -> None:
    sender = WebSocketConnection("client")
    wire = sender.send_bytes(BIG) + sender.send_text("after")
    receiver = WebSocketConnection("server", engine=ws_engine)
    assert feed(receiver, wire, 1) == [BytesMessage(BIG), TextMessage("after")]


def test_eof_inside_a_gathered_frame(ws_engine: str) -> None:
    wire = WebSocketConnection("client").send_bytes(BIG)
    receiver = WebSocketConnection("server", engine=ws_engine)
    assert feed(receiver, wire[: len(wire) // 2], 5000) == []
    receiver.receive_data(b"")
    assert list(receiver.events()) == [ConnectionClosed()]


def test_bad_frame_after_a_gathered_frame(ws_engine: str) -> None:
    wire = WebSocketConnection("client").send_bytes(BIG) + b"\x83\x80abcd"  # opcode 3
    receiver = WebSocketConnection("server", engine=ws_engine)
    events: list[Event] = []
    with pytest.raises(WebSocketProtocolError):
        for i in range(0, len(wire), 3000):
            receiver.receive_data(wire[i : i + 3000])
            for event in receiver.events():
                events.append(event)
    assert events == [BytesMessage(BIG)]


@pytest.mark.parametrize("data", [BIG, TEXT, b"", "x", b"y" * 300])
def test_send_parts_is_the_frame(ws_engine: str, data: bytes | str) -> None:
    server = WebSocketConnection("server", engine=ws_engine)
    head, body = server.send_parts(data)
    whole = server.send_text(data) if isinstance(data, str) else server.send_bytes(data)
    assert head + body == whole
    client = WebSocketConnection("client", engine=ws_engine)
    head, body = client.send_parts(data)
    peer = WebSocketConnection("server")
    peer.receive_data(head + body)
    expected = TextMessage(data) if isinstance(data, str) else BytesMessage(data)
    assert list(peer.events()) == [expected]


def test_send_parts_compressed_is_all_head() -> None:
    deflate = PerMessageDeflate()
    conn = WebSocketConnection("server", deflate=deflate)
    head, body = conn.send_parts(BIG)
    assert body == b"" and head[0] == 0xC2
    peer = WebSocketConnection("client", deflate=deflate)
    peer.receive_data(head)
    assert list(peer.events()) == [BytesMessage(BIG)]


def test_client_masking_keys_are_fresh_across_pool_refills() -> None:
    """Each frame takes a new key (64 per urandom call); the peer unmasks every one."""
    client = WebSocketConnection("client")
    frames = [client.send_text("k") for _ in range(200)] + [client.send_bytes(BIG)]
    keys = {frame[2:6] for frame in frames[:-1]}
    assert len(keys) > 190  # random 32-bit keys: a collision or two at most
    peer = WebSocketConnection("server")
    peer.receive_data(b"".join(frames))
    assert list(peer.events()) == [TextMessage("k")] * 200 + [BytesMessage(BIG)]
