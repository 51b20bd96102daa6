"""``ClientSession.ws_connect`` against treadle's server and hand-made answers, on every
backend: handshake checks, timeouts, heartbeat, limits, errors and the pool slot."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import pytest
import trustme

import treadle as aiohttp
from treadle import web
from treadle.protocol import Request, accept_key

from ..server._serving import serve
from ._peer_server import PeerHandler, peer_server

Handler = Callable[[web.Request], Awaitable[Any]]


@contextlib.asynccontextmanager
async def ws_app(handler: Handler, path: str = "/ws") -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get(path, handler)
    app.router.add_get("/plain", plain)
    async with serve(app) as (url, _):
        yield url


async def plain(request: web.Request) -> web.Response:
    return web.Response(text="plain")


async def echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=("chat",))
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is aiohttp.WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type is aiohttp.WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


# -- the handshake ------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "status"), [("/missing", 404), ("/plain", 200)])
async def test_a_refused_upgrade_raises_handshake_error(path: str, status: int) -> None:
    connector = aiohttp.TCPConnector(limit=1)
    async with ws_app(echo) as url, aiohttp.ClientSession(connector=connector) as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(url + path)
        assert info.value.status == status
        assert info.value.message == "Invalid response status"
        assert info.value.headers is not None
        # the one pool slot is free again
        with anyio.fail_after(5):
            async with session.get(url + "/plain") as response:
                assert await response.text() == "plain"


def _answer_101(*extra: bytes, accept: bytes | None = None) -> Any:
    async def respond(request: Request, body: bytes, handler: PeerHandler) -> bytes:
        key = dict((k.lower(), v) for k, v in request.headers)[b"sec-websocket-key"]
        head = (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + (accept or accept_key(key)) + b"\r\n"
        )
        return head + b"".join(line + b"\r\n" for line in extra) + b"\r\n"

    return respond


@pytest.mark.parametrize(
    ("respond", "match"),
    [
        (_answer_101(accept=b"d3Jvbmc="), "Sec-WebSocket-Accept"),
        (_answer_101(b"Sec-WebSocket-Protocol: other"), "subprotocol"),
        (_answer_101(b"Sec-WebSocket-Extensions: permessage-deflate"), "extensions"),
    ],
    ids=["accept", "protocol", "extension"],
)
async def test_a_bad_101_raises_handshake_error(respond: Any, match: str) -> None:
    async with peer_server(respond) as server, aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError, match=match) as info:
            await session.ws_connect(f"http://127.0.0.1:{server.port}/", protocols=["chat"])
        assert info.value.status == 101
        with anyio.fail_after(5):
            while server.open:
                await anyio.sleep(0.01)  # the client closed the connection


async def test_request_options_reach_the_server() -> None:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.WebSocketResponse:
        seen.update(
            origin=request.headers.get("Origin"),
            custom=request.headers.get("X-Custom"),
            auth=request.headers.get("Authorization"),
            query=dict(request.query),
            protocols=request.headers.get("Sec-WebSocket-Protocol"),
            extensions=request.headers.get("Sec-WebSocket-Extensions"),
        )
        return await echo(request)

    async with (
        ws_app(handler) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(
            url.replace("http://", "ws://") + "/ws",
            origin="http://example.com",
            headers={"X-Custom": "1"},
            params={"q": "v"},
            auth=aiohttp.BasicAuth("user", "pass"),
            protocols=("a", "chat"),
            compress=9,
        ) as ws,
    ):
        assert ws.protocol == "chat"
        assert ws.compress == 9
        assert ws.get_extra_info("peername")[0] == "127.0.0.1"
        assert ws.get_extra_info("nothing", "default") == "default"
        await ws.send_str("x" * 10_000)
        assert await ws.receive_str() == "x" * 10_000
    assert seen == {
        "origin": "http://example.com",
        "custom": "1",
        "auth": aiohttp.BasicAuth("user", "pass").encode(),
        "query": {"q": "v"},
        "protocols": "a, chat",
        "extensions": "permessage-deflate; server_max_window_bits=9; client_max_window_bits",
    }


async def test_compress_out_of_range() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError, match="wbits"):
            await session.ws_connect("http://127.0.0.1:1/", compress=8)
        with pytest.raises(ValueError, match="client_notakeover"):
            await session.ws_connect("http://127.0.0.1:1/", client_notakeover=True)


async def test_client_notakeover_offer() -> None:
    """``client_notakeover=True`` (treadle's addition) offers client_no_context_takeover,
    which Autobahn 13.2/13.5/13.6 require; messages still round-trip compressed."""
    offers: list[str | None] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        offers.append(request.headers.get("Sec-WebSocket-Extensions"))
        return await echo(request)

    async with ws_app(handler) as url, aiohttp.ClientSession() as session:
        async with session.ws_connect(url + "/ws", compress=15, client_notakeover=True) as ws:
            assert ws.compress == 15 and ws.client_notakeover
            for _ in range(3):
                await ws.send_str("abc" * 5000)
                assert await ws.receive_str() == "abc" * 5000
        async with session.ws_connect(url + "/ws", compress=15) as ws:
            assert not ws.client_notakeover  # the default offer is unchanged
    assert offers == [
        "permessage-deflate; client_no_context_takeover; client_max_window_bits",
        "permessage-deflate; client_max_window_bits",
    ]


# -- the pool ------------------------------------------------------------------------------


async def test_the_pool_slot_is_freed_when_the_websocket_ends() -> None:
    async def close_soon(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.close(code=1001)
        return ws

    connector = aiohttp.TCPConnector(limit=1)
    async with ws_app(close_soon) as url, aiohttp.ClientSession(connector=connector) as session:
        for _ in range(2):
            ws = await session.ws_connect(url + "/ws")  # the server closes first
            msg = await ws.receive()
            assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, 1001)
            assert ws.closed and ws.close_code == 1001
        for _ in range(2):  # the client closes first
            async with session.ws_connect(url + "/ws") as ws:
                pass
        with anyio.fail_after(5):
            async with session.get(url + "/plain") as response:
                assert response.status == 200


# -- timeouts and the heartbeat --------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{"timeout": aiohttp.ClientWSTimeout(ws_receive=0.1)}, {"receive_timeout": 0.1}],
    ids=["ClientWSTimeout", "receive_timeout"],
)
async def test_receive_timeout(options: dict[str, Any]) -> None:
    async with (
        ws_app(echo) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "/ws", **options) as ws,
    ):
        with pytest.raises(TimeoutError):
            await ws.receive()
        with pytest.raises(TimeoutError):
            await ws.receive_str(timeout=0.05)
        await ws.send_str("still works")
        assert await ws.receive_str() == "still works"


async def test_close_timeout_when_the_server_never_answers() -> None:
    release = anyio.Event()

    async def deaf(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoclose=False)
        await ws.prepare(request)
        await release.wait()  # receives nothing: the client's Close stays unanswered
        return ws

    async with ws_app(deaf) as url, aiohttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/ws", timeout=aiohttp.ClientWSTimeout(ws_close=0.2))
        with anyio.fail_after(5):
            assert await ws.close() is True
        assert ws.close_code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE
        release.set()


async def test_heartbeat_without_pong_fails_with_server_timeout() -> None:
    release = anyio.Event()

    async def mute(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)  # Pings are left unanswered
        await ws.prepare(request)
        await release.wait()
        return ws

    async with ws_app(mute) as url, aiohttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/ws", heartbeat=0.1)
        with anyio.fail_after(5):
            msg = await ws.receive()
        assert msg.type is aiohttp.WSMsgType.ERROR
        assert isinstance(msg.data, aiohttp.ServerTimeoutError)
        assert isinstance(ws.exception(), aiohttp.ServerTimeoutError)
        assert ws.close_code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE
        release.set()


async def test_heartbeat_with_a_live_server_keeps_the_connection() -> None:
    async with (
        ws_app(echo) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "/ws", heartbeat=0.05) as ws,
    ):
        await anyio.sleep(0.4)
        await ws.send_str("alive")
        assert await ws.receive_str() == "alive"
        assert not ws.closed


# -- errors ---------------------------------------------------------------------------------


async def test_sending_after_close_raises_client_connection_reset() -> None:
    async with ws_app(echo) as url, aiohttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/ws")
        await ws.close()
        for send in (ws.send_str("x"), ws.send_bytes(b"x"), ws.ping(), ws.send_json(1)):
            with pytest.raises(aiohttp.ClientConnectionResetError):
                await send
        assert (await ws.receive()).type is aiohttp.WSMsgType.CLOSED


async def test_wrong_message_type() -> None:
    async with (
        ws_app(echo) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "/ws") as ws,
    ):
        await ws.send_bytes(b"raw")
        with pytest.raises(aiohttp.WSMessageTypeError):
            await ws.receive_str()
        await ws.send_str("text")
        with pytest.raises(TypeError):
            await ws.receive_bytes()


async def test_client_max_msg_size() -> None:
    got: list[Any] = []

    async def big(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_bytes(b"x" * 2000)
        msg = await ws.receive()
        got.append((msg.type, msg.data))
        return ws

    async with ws_app(big) as url, aiohttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/ws", max_msg_size=1024)
        msg = await ws.receive()
        assert msg.type is aiohttp.WSMsgType.ERROR
        assert ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
        with anyio.fail_after(5):
            while not got:
                await anyio.sleep(0.01)
    assert got == [(aiohttp.WSMsgType.CLOSE, 1009)]


async def test_async_iteration_stops_at_close() -> None:
    async def talk(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for word in ("a", "b", "c"):
            await ws.send_str(word)
        await ws.close()
        return ws

    async with (
        ws_app(talk) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "/ws") as ws,
    ):
        assert [msg.data async for msg in ws] == ["a", "b", "c"]
        assert ws.close_code == 1000


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"\x81\x84abcd" + bytes(a ^ b for a, b in zip(b"text", b"abcd", strict=True)), 1002),
        (b"\x83\x00", 1002),  # reserved opcode
        (b"\x81\x02\xff\xfe", 1007),  # invalid UTF-8
    ],
    ids=["masked", "opcode", "utf8"],
)
async def test_invalid_frames_from_the_server_fail_the_connection(frame: bytes, code: int) -> None:
    async with peer_server(_answer_101()) as server:
        respond = server.respond

        async def with_frame(request: Request, body: bytes, handler: PeerHandler) -> bytes:
            head = await respond(request, body, handler)
            assert isinstance(head, bytes)
            return head + frame  # the bad frame right behind the 101

        server.respond = with_frame
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(f"http://127.0.0.1:{server.port}/")
            with anyio.fail_after(5):
                msg = await ws.receive()
            assert msg.type is aiohttp.WSMsgType.ERROR
            assert isinstance(msg.data, aiohttp.WebSocketError) and msg.data.code == code
            assert ws.close_code == code and ws.closed
            assert (await ws.receive()).type is aiohttp.WSMsgType.CLOSED


async def test_wss_with_a_trusted_certificate() -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    app = web.Application()
    app.router.add_get("/ws", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx).start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"wss://localhost:{port}/ws", ssl=client_ctx) as ws:
                assert ws.get_extra_info("ssl_object") is not None
                await ws.send_str("secret" * 10_000)
                assert await ws.receive_str() == "secret" * 10_000
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await session.ws_connect(f"wss://localhost:{port}/ws")  # untrusted CA
    finally:
        await runner.cleanup()
