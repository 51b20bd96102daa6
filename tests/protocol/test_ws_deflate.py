"""permessage-deflate (RFC 7692): negotiation both ways and bounded inflation."""

from __future__ import annotations

import zlib

import pytest

from treadle.protocol import (
    BytesMessage,
    ClientHandshake,
    HandshakeError,
    PerMessageDeflate,
    ServerHandshake,
    TextMessage,
    WebSocketConnection,
)
from treadle.protocol._ws_deflate import parse_extensions

from ._ws_support import ENGINES, client_frame, drive


@pytest.fixture(params=ENGINES)
def ws_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def negotiate(offer: PerMessageDeflate) -> tuple[PerMessageDeflate, PerMessageDeflate]:
    hs = ClientHandshake(deflate=offer)
    headers, _, server_params = ServerHandshake(b"GET", hs.request_headers()).accept()
    assert server_params is not None
    _, client_params = hs.validate(101, headers)
    assert client_params == server_params
    return client_params, server_params


def pair(offer: PerMessageDeflate, ws_engine: str, **kw: int) -> tuple[WebSocketConnection, ...]:
    cp, sp = negotiate(offer)
    return (
        WebSocketConnection("client", deflate=cp, engine=ws_engine, **kw),
        WebSocketConnection("server", deflate=sp, engine=ws_engine, **kw),
    )


OFFERS = [
    PerMessageDeflate(),
    PerMessageDeflate(client_max_window_bits=0),
    PerMessageDeflate(server_no_context_takeover=True, client_no_context_takeover=True),
    PerMessageDeflate(server_max_window_bits=9, client_max_window_bits=10),
]


@pytest.mark.parametrize("offer", OFFERS, ids=str)
def test_round_trip_under_every_negotiation(offer: PerMessageDeflate, ws_engine: str) -> None:
    c, s = pair(offer, ws_engine)
    messages = [TextMessage("hello " * 500), BytesMessage(bytes(range(256)) * 50)] * 3
    s.receive_data(b"".join(c.send(m) for m in messages))
    assert list(s.events()) == messages
    c.receive_data(b"".join(s.send(m) for m in messages))
    assert list(c.events()) == messages


def test_compression_actually_shrinks_and_takeover_helps(ws_engine: str) -> None:
    c, _ = pair(PerMessageDeflate(), ws_engine)
    first, second = c.send_text("abcdefgh" * 100), c.send_text("abcdefgh" * 100)
    assert len(first) < 100 and len(second) < len(first)  # context reused
    c, _ = pair(PerMessageDeflate(client_no_context_takeover=True), ws_engine)
    assert len(c.send_text("abcdefgh" * 100)) == len(c.send_text("abcdefgh" * 100))


def test_zip_bomb_stops_at_the_limit(ws_engine: str) -> None:
    _, s = pair(PerMessageDeflate(), ws_engine, max_message_size=1 << 20)
    compressor = zlib.compressobj(wbits=-15)
    bomb = compressor.compress(bytes(50 << 20)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert len(bomb) < 60_000
    outcome = drive(s, [client_frame(2, bomb[:-4], rsv=4)])
    assert outcome.code == 1009


def test_inflated_size_counts_across_fragments(ws_engine: str) -> None:
    _, s = pair(PerMessageDeflate(), ws_engine, max_message_size=1000)
    compressor = zlib.compressobj(wbits=-15)
    part = compressor.compress(b"a" * 800) + compressor.flush(zlib.Z_SYNC_FLUSH)
    wire = client_frame(2, part, rsv=4, fin=False) + client_frame(0, part, fin=False)
    assert drive(s, [wire]).code == 1009


def test_rsv1_on_continuation_or_control_is_1002(ws_engine: str) -> None:
    for bad in (
        client_frame(1, b"\x00", fin=False) + client_frame(0, b"", rsv=4),
        client_frame(9, b"", rsv=4),
    ):
        _, s = pair(PerMessageDeflate(), ws_engine)
        assert drive(s, [bad]).code == 1002


def test_corrupt_compressed_data_is_1007(ws_engine: str) -> None:
    _, s = pair(PerMessageDeflate(), ws_engine)
    assert drive(s, [client_frame(2, b"\xff\xff\xff\xff", rsv=4)]).code == 1007


def test_uncompressed_message_in_a_deflate_session(ws_engine: str) -> None:
    _, s = pair(PerMessageDeflate(), ws_engine)
    assert drive(s, [client_frame(1, b"plain")]).events == [TextMessage("plain")]


@pytest.mark.parametrize(
    "value",
    [
        "permessage-deflate; server_max_window_bits=8",  # zlib cannot do 8
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; unknown",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover=1",
        "x-webkit-deflate-frame",
        "bad name",
    ],
)
def test_server_declines_bad_offers(value: str) -> None:
    assert PerMessageDeflate.negotiate(value) is None


def test_server_takes_the_first_acceptable_offer() -> None:
    agreed = PerMessageDeflate.negotiate(
        'permessage-deflate; unknown, permessage-deflate; client_max_window_bits="10"'
    )
    assert agreed == (
        PerMessageDeflate(client_max_window_bits=10),
        "permessage-deflate; client_max_window_bits=10",
    )


def test_offered_client_no_context_takeover_holds_without_the_answer(ws_engine: str) -> None:
    """RFC 7692 7.1.1.2: a client that offers client_no_context_takeover keeps to it
    even when the server's answer leaves it out (Autobahn 13.2/13.5/13.6 need the offer)."""
    offer = PerMessageDeflate(client_no_context_takeover=True, client_max_window_bits=0)
    assert offer.offer() == "permessage-deflate; client_no_context_takeover; client_max_window_bits"
    agreed = offer.accept_response("permessage-deflate")
    assert agreed.client_no_context_takeover
    assert offer.accept_response(
        "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"
    ) == PerMessageDeflate(client_no_context_takeover=True, client_max_window_bits=9)
    client = WebSocketConnection("client", deflate=agreed, engine=ws_engine)
    server = WebSocketConnection("server", deflate=PerMessageDeflate(), engine=ws_engine)
    first, second = client.send_text("abcdefgh" * 100), client.send_text("abcdefgh" * 100)
    assert len(first) == len(second)  # no context carried from the first message
    server.receive_data(first + second)
    assert list(server.events()) == [TextMessage("abcdefgh" * 100)] * 2


@pytest.mark.parametrize(
    ("offer", "answer"),
    [
        (PerMessageDeflate(), "permessage-deflate; client_max_window_bits=10"),
        (PerMessageDeflate(server_no_context_takeover=True), "permessage-deflate"),
        (
            PerMessageDeflate(server_max_window_bits=10),
            "permessage-deflate; server_max_window_bits=12",
        ),
        (
            PerMessageDeflate(client_max_window_bits=0),
            "permessage-deflate; client_max_window_bits=8",
        ),
        (PerMessageDeflate(), "permessage-deflate, permessage-deflate"),
        (PerMessageDeflate(), "permessage-deflate; bogus"),
    ],
)
def test_client_refuses_bad_answers(offer: PerMessageDeflate, answer: str) -> None:
    with pytest.raises(HandshakeError):
        offer.accept_response(answer)


def test_parse_extensions() -> None:
    assert parse_extensions('a; x=1; y="2", b') == [("a", [("x", "1"), ("y", "2")]), ("b", [])]
    with pytest.raises(ValueError):
        parse_extensions("a; x=\x01")
