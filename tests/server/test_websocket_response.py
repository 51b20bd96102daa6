"""``WebSocketResponse`` on a real server, on every backend.

Peers: treadle's own ``ws_connect`` and a raw socket speaking bytes (for what a
well-behaved client never sends: invalid frames, silence after a Ping or a Close).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import pytest

import treadle as aiohttp
from treadle import web
from treadle.protocol import (
    NEED_DATA,
    ClientHandshake,
    Close,
    Ping,
    WebSocketConnection,
)
from treadle.protocol._ws_mask import python_mask

from ._serving import raw_connection, read_response, read_until_close, serve

Handler = Callable[[web.Request], Awaitable[Any]]


@contextlib.asynccontextmanager
async def ws_app(handler: Handler, path: str = "/ws") -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get(path, handler)
    async with serve(app) as (url, _):
        yield url


async def echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=("chat", "v2"))
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is aiohttp.WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type is aiohttp.WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


# -- raw peer -----------------------------------------------------------------------------


def _frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True) -> bytes:
    """One frame as a client sends it (masked unless told otherwise)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 1 << 16:
        head += bytes([bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + n.to_bytes(8, "big")
    if not mask:
        return head + payload
    key = b"\x01\x02\x03\x04"
    return head + key + python_mask(payload, key)


class RawPeer:
    """A hand-driven client: handshake done, frames parsed with the sans-IO core."""

    def __init__(self, stream: anyio.abc.SocketStream, rest: bytes) -> None:
        self.stream = stream
        self.proto = WebSocketConnection("client", max_message_size=0)
        if rest:  # b"" would mean EOF
            self.proto.receive_data(rest)

    async def next_event(self, limit: float = 5.0) -> Any:
        with anyio.fail_after(limit):
            while True:
                event = self.proto.next_event()
                if event is not NEED_DATA:
                    return event
                try:
                    data = await self.stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    data = b""
                self.proto.receive_data(data)


@contextlib.asynccontextmanager
async def raw_ws(url: str, path: str = "/ws", extra: bytes = b"") -> AsyncIterator[RawPeer]:
    handshake = ClientHandshake()
    head = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
    for name, value in handshake.request_headers():
        head += name + b": " + value + b"\r\n"
    async with raw_connection(url) as stream:
        await stream.send(head + extra + b"\r\n")
        buffer = b""
        with anyio.fail_after(5):
            while b"\r\n\r\n" not in buffer:
                buffer += await stream.receive()
        status_head, _, rest = buffer.partition(b"\r\n\r\n")
        assert status_head.startswith(b"HTTP/1.1 101 "), status_head
        yield RawPeer(stream, rest)


# -- the handshake ------------------------------------------------------------------------


async def test_echo_with_subprotocol_and_deflate() -> None:
    async with (
        ws_app(echo) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "/ws", protocols=("v2", "chat"), compress=15) as ws,
    ):
        assert ws.protocol == "v2"  # the client's preference among what we speak
        assert ws.compress == 15
        await ws.send_str("héllo")
        assert await ws.receive_str() == "héllo"
        await ws.send_json({"a": [1, 2]})
        assert await ws.receive_json() == {"a": [1, 2]}
        big = bytes(range(256)) * 4096
        await ws.send_bytes(big)
        assert await ws.receive_bytes() == big
    assert ws.closed and ws.close_code == aiohttp.WSCloseCode.OK


async def test_no_common_subprotocol_and_no_compression() -> None:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("chat",), compress=False)
        ready = ws.can_prepare(request)
        seen["ready"] = (bool(ready), ready.protocol)
        await ws.prepare(request)
        seen["protocol"], seen["compress"] = ws.ws_protocol, ws.compress
        await ws.send_str("x")
        await ws.close()
        return ws

    async with (
        ws_app(handler) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "/ws", protocols=("other",), compress=15) as ws,
    ):
        assert ws.protocol is None and ws.compress == 0
        assert (await ws.receive()).data == "x"
        msg = await ws.receive()
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1000
    assert seen == {"ready": (True, None), "protocol": None, "compress": 0}


async def test_can_prepare_on_a_plain_request() -> None:
    async def handler(request: web.Request) -> web.Response:
        ready = web.WebSocketResponse().can_prepare(request)
        return web.Response(text=f"{bool(ready)} {ready.protocol}")

    async with (
        ws_app(handler) as url,
        aiohttp.ClientSession() as session,
        session.get(url + "/ws") as response,
    ):
        assert await response.text() == "False None"


@pytest.mark.parametrize(
    ("request_head", "status", "header"),
    [
        (b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", 400, None),
        (
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
            426,
            b"sec-websocket-version: 13",
        ),
        (
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
            b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
            400,
            None,
        ),
    ],
)
async def test_refused_handshakes_answer_http_errors(
    request_head: bytes, status: int, header: bytes | None
) -> None:
    async with ws_app(echo) as url, raw_connection(url) as stream:
        await stream.send(request_head)
        answer = await read_response(stream, bytearray())
    line, _, rest = answer.partition(b"\r\n")
    assert line.startswith(b"HTTP/1.1 %d " % status), answer
    if header is not None:
        assert header in rest.lower()


async def test_post_is_refused_with_405_and_allow() -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        return ws

    app = web.Application()
    app.router.add_route("*", "/ws", handler)
    async with (
        serve(app) as (url, _),
        aiohttp.ClientSession() as session,
        session.post(url + "/ws", headers={"Upgrade": "websocket"}) as response,
    ):
        assert response.status == 405
        assert response.headers["Allow"] == "GET"


async def test_on_response_prepare_sees_the_101_and_may_add_headers() -> None:
    seen: list[int] = []

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        seen.append(response.status)
        response.headers["X-Extra"] = "yes"

    app = web.Application()
    app.on_response_prepare.append(on_prepare)
    app.router.add_get("/ws", echo)
    async with serve(app) as (url, _), raw_connection(url) as stream:
        handshake = ClientHandshake()
        head = b"GET /ws HTTP/1.1\r\nHost: x\r\n" + b"".join(
            name + b": " + value + b"\r\n" for name, value in handshake.request_headers()
        )
        await stream.send(head + b"\r\n")
        buffer = b""
        with anyio.fail_after(5):
            while b"\r\n\r\n" not in buffer:
                buffer += await stream.receive()
    assert seen == [101]
    assert b"\r\nX-Extra: yes\r\n" in buffer


async def test_methods_before_prepare_raise() -> None:
    ws = web.WebSocketResponse()
    assert not ws.closed and ws.close_code is None and ws.exception() is None
    with pytest.raises(RuntimeError, match="prepare"):
        await ws.receive()
    with pytest.raises(RuntimeError, match="prepare"):
        await ws.send_str("x")
    with pytest.raises(RuntimeError):
        await ws.write(b"x")


# -- closing -------------------------------------------------------------------------------


async def test_returning_an_open_websocket_closes_it() -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str("bye")
        return ws  # the server closes it: 1000, as aiohttp

    async with (
        ws_app(handler) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "/ws") as ws,
    ):
        assert await ws.receive_str() == "bye"
        msg = await ws.receive()
        assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, 1000)


async def test_a_failing_handler_drops_the_connection() -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()
        raise ValueError("boom")

    async with (
        ws_app(handler) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "/ws") as ws,
    ):
        await ws.send_str("go")
        with anyio.fail_after(5):
            msg = await ws.receive()
        assert msg.type is aiohttp.WSMsgType.CLOSED
        assert ws.close_code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE


async def test_close_codes_and_reasons_both_ways() -> None:
    got: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        msg = await ws.receive()
        got["server"] = (msg.type, msg.data, msg.extra, ws.close_code)
        return ws

    async with ws_app(handler) as url, aiohttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/ws")
        assert await ws.close(code=4001, message=b"done") is True
        assert await ws.close() is False
    assert got["server"] == (aiohttp.WSMsgType.CLOSE, 4001, "done", 4001)


async def test_close_timeout_when_the_client_never_answers() -> None:
    result: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(timeout=0.3)
        await ws.prepare(request)
        result["closed"] = await ws.close(code=1001)
        result["code"] = ws.close_code
        return ws

    async with ws_app(handler) as url, raw_ws(url) as peer:
        event = await peer.next_event()
        assert event == Close(1001, "")
        # never answer: the server gives up after its timeout and drops the connection
        with anyio.fail_after(5):
            rest = await read_until_close(peer.stream)
    assert rest == b""
    assert result == {"closed": True, "code": aiohttp.WSCloseCode.ABNORMAL_CLOSURE}


async def test_close_with_drop_does_not_wait() -> None:
    result: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(timeout=30)
        await ws.prepare(request)
        with anyio.fail_after(5):
            result["closed"] = await ws.close(drop=True)
        return ws

    async with ws_app(handler) as url, raw_ws(url) as peer:
        assert await peer.next_event() == Close(1000, "")
        await read_until_close(peer.stream)
    assert result == {"closed": True}


# -- invalid input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (_frame(0x1, b"unmasked", mask=False), 1002),
        (_frame(0x3, b"reserved opcode"), 1002),
        (_frame(0x1, b"\xff\xfe not utf-8"), 1007),
        (_frame(0x2, b"x" * 2000), 1009),
    ],
    ids=["unmasked", "opcode", "utf8", "too-big"],
)
async def test_invalid_frames_close_with_the_right_code(frame: bytes, code: int) -> None:
    got: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=1024)
        await ws.prepare(request)
        msg = await ws.receive()
        got["msg"] = (msg.type, getattr(msg.data, "code", None))
        got["close_code"] = ws.close_code
        got["exception"] = ws.exception()
        return ws

    async with ws_app(handler) as url, raw_ws(url) as peer:
        await peer.stream.send(frame)
        event = await peer.next_event()
    assert isinstance(event, Close) and event.code == code
    assert got["msg"] == (aiohttp.WSMsgType.ERROR, code)
    assert got["close_code"] == code
    assert isinstance(got["exception"], aiohttp.WebSocketError)


async def test_max_msg_size_zero_means_no_limit() -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        data = await ws.receive_bytes()
        await ws.send_str(str(len(data)))
        await ws.close()
        return ws

    async with (
        ws_app(handler) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "/ws") as ws,
    ):
        await ws.send_bytes(b"\0" * (5 * 1024 * 1024))
        assert await ws.receive_str() == str(5 * 1024 * 1024)


# -- timers --------------------------------------------------------------------------------


async def test_receive_timeout() -> None:
    got: list[str] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(receive_timeout=0.1)
        await ws.prepare(request)
        with pytest.raises(TimeoutError):
            await ws.receive()
        with pytest.raises(TimeoutError):
            await ws.receive_str(timeout=0.05)
        got.append("timed out")
        await ws.send_str("still open")
        assert await ws.receive_str(timeout=5) == "late"
        got.append("late")
        return ws

    async with (
        ws_app(handler) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "/ws") as ws,
    ):
        assert await ws.receive_str() == "still open"
        await ws.send_str("late")
        assert (await ws.receive()).type is aiohttp.WSMsgType.CLOSE
    assert got == ["timed out", "late"]


async def test_heartbeat_keeps_a_responsive_client_and_drops_a_silent_one() -> None:
    results: list[Any] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=0.1)
        await ws.prepare(request)
        msg = await ws.receive()
        results.append((msg.type, ws.close_code, type(ws.exception())))
        return ws

    async with ws_app(handler) as url:
        # treadle's client answers the Pings (autoping): still open after 5 heartbeats
        async with aiohttp.ClientSession() as session, session.ws_connect(url + "/ws") as ws:
            await anyio.sleep(0.5)
            assert not ws.closed
        # a raw peer that never answers: dropped after heartbeat + heartbeat/2
        async with raw_ws(url) as peer:
            assert isinstance(await peer.next_event(), Ping)
            with anyio.fail_after(5):
                await read_until_close(peer.stream)
    assert results[0] == (aiohttp.WSMsgType.CLOSE, 1000, type(None))
    assert results[1] == (aiohttp.WSMsgType.ERROR, 1006, TimeoutError)


async def test_autoping_off_shows_pings_and_pongs() -> None:
    got: list[Any] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        ping = await ws.receive()
        got.append((ping.type, ping.data))
        await ws.pong(ping.data)
        await ws.ping(b"back")
        pong = await ws.receive()
        got.append((pong.type, pong.data))
        await ws.close()
        return ws

    async with ws_app(handler) as url, raw_ws(url) as peer:
        await peer.stream.send(_frame(0x9, b"hi"))
        assert (await peer.next_event()).payload == b"hi"
        assert (await peer.next_event()).payload == b"back"
        await peer.stream.send(_frame(0xA, b"back"))
        assert isinstance(await peer.next_event(), Close)
    assert got == [(aiohttp.WSMsgType.PING, b"hi"), (aiohttp.WSMsgType.PONG, b"back")]
