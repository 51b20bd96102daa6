"""The opening handshake helpers, both sides, and the hand-over from the HTTP core."""

from __future__ import annotations

import pytest

from treadle.protocol import (
    ClientConnection,
    ClientHandshake,
    HandshakeError,
    InformationalResponse,
    PerMessageDeflate,
    Request,
    ServerConnection,
    ServerHandshake,
    TextMessage,
    WebSocketConnection,
    accept_key,
)
from treadle.protocol import EndOfMessage as EOM

RFC_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def request_headers(**overrides: bytes | None) -> list[tuple[bytes, bytes]]:
    base = {
        b"Host": b"example.com",
        b"Upgrade": b"websocket",
        b"Connection": b"keep-alive, Upgrade",
        b"Sec-WebSocket-Key": RFC_KEY,
        b"Sec-WebSocket-Version": b"13",
    }
    for name, value in overrides.items():
        key = name.replace("_", "-").encode()
        if value is None:
            base.pop(key)
        else:
            base[key] = value
    return list(base.items())


def test_accept_key_matches_rfc_example() -> None:
    assert accept_key(RFC_KEY) == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 1.3


def test_full_exchange_over_the_http_core() -> None:
    """The dance documented in docs/websocket.md, with bytes after the 101."""
    hs = ClientHandshake(protocols=["chat", "superchat"])
    http_client = ClientConnection()
    wire = http_client.send(Request(b"GET", b"/ws", [(b"Host", b"x"), *hs.request_headers()]))
    wire += http_client.send(EOM())

    http_server = ServerConnection()
    ws_client_early = WebSocketConnection("client")
    http_server.receive_data(wire + ws_client_early.send_text("early"))
    request = http_server.next_event()
    assert isinstance(request, Request)
    server_hs = ServerHandshake(request.method, request.headers, request.http_version)
    headers, protocol, deflate = server_hs.accept(protocols=["superchat", "chat"])
    assert protocol == "chat" and deflate is None  # the client's preference wins
    answer = http_server.send(InformationalResponse(101, headers))
    assert http_server.switched
    ws_server = WebSocketConnection("server", deflate=deflate)
    trailing, eof = http_server.trailing_data  # bytes after the request, and EOF seen?
    assert not eof
    ws_server.receive_data(trailing)
    assert list(ws_server.events()) == [TextMessage("early")]

    http_client.receive_data(answer + ws_server.send_text("hello"))
    head = http_client.next_event()
    assert isinstance(head, InformationalResponse) and head.status_code == 101
    assert hs.validate(head.status_code, head.headers) == ("chat", None)
    assert http_client.switched
    ws_client = WebSocketConnection("client")
    ws_client.receive_data(http_client.trailing_data[0])
    assert list(ws_client.events()) == [TextMessage("hello")]


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"Upgrade": b"h2c"}, 400),
        ({"Upgrade": None}, 400),
        ({"Connection": b"keep-alive"}, 400),
        ({"Sec-WebSocket-Key": None}, 400),
        ({"Sec-WebSocket-Key": b"short"}, 400),
        ({"Sec-WebSocket-Key": b"!!!!!!!!!!!!!!!!!!!!!!=="}, 400),
        ({"Sec-WebSocket-Version": b"8"}, 426),
        ({"Sec-WebSocket-Version": None}, 400),
    ],
)
def test_server_refuses_bad_requests(overrides: dict[str, bytes | None], status: int) -> None:
    with pytest.raises(HandshakeError) as info:
        ServerHandshake(b"GET", request_headers(**overrides))
    assert info.value.status_hint == status
    if status == 426:
        assert (b"Sec-WebSocket-Version", b"13") in info.value.headers


def test_server_refuses_other_methods_and_versions() -> None:
    with pytest.raises(HandshakeError) as info:
        ServerHandshake(b"POST", request_headers())
    assert info.value.status_hint == 405 and info.value.headers == [(b"Allow", b"GET")]
    with pytest.raises(HandshakeError):
        ServerHandshake(b"GET", request_headers(), b"1.0")


def test_repeated_key_is_refused() -> None:
    with pytest.raises(HandshakeError):
        ServerHandshake(b"GET", [*request_headers(), (b"sec-websocket-key", RFC_KEY)])


def test_server_without_common_protocol_chooses_none() -> None:
    hs = ServerHandshake(b"GET", request_headers(Sec_WebSocket_Protocol=b"a, b"))
    assert hs.offered_protocols == ["a", "b"]
    headers, protocol, _ = hs.accept(protocols=["c"])
    assert protocol is None
    assert all(name != b"Sec-WebSocket-Protocol" for name, _ in headers)


def answer(hs: ClientHandshake, *extra: tuple[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    return [
        (b"Upgrade", b"WebSocket"),
        (b"Connection", b"upgrade"),
        (b"Sec-WebSocket-Accept", accept_key(hs.key)),
        *extra,
    ]


def test_client_validates_the_answer() -> None:
    hs = ClientHandshake(protocols=["chat"])
    assert hs.validate(101, answer(hs, (b"Sec-WebSocket-Protocol", b"chat"))) == ("chat", None)
    bad = [
        (200, answer(hs)),
        (101, answer(hs)[1:]),
        (101, [answer(hs)[0], *answer(hs)[2:]]),
        (101, [*answer(hs)[:2], (b"Sec-WebSocket-Accept", accept_key(b"other"))]),
        (101, answer(hs, (b"Sec-WebSocket-Protocol", b"other"))),
        (101, answer(hs, (b"Sec-WebSocket-Extensions", b"permessage-deflate"))),
    ]
    for status, headers in bad:
        with pytest.raises(HandshakeError):
            hs.validate(status, headers)


def test_client_request_headers() -> None:
    hs = ClientHandshake(protocols=["a", "b"], deflate=PerMessageDeflate(client_max_window_bits=0))
    headers = dict(hs.request_headers())
    assert headers[b"Sec-WebSocket-Version"] == b"13"
    assert headers[b"Sec-WebSocket-Protocol"] == b"a, b"
    assert headers[b"Sec-WebSocket-Extensions"] == b"permessage-deflate; client_max_window_bits"
    assert len(hs.key) == 24 and ClientHandshake().key != hs.key
