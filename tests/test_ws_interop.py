"""treadle's WebSocket client and server against the ``websockets`` package and aiohttp.

The peers run on asyncio (or websockets' threading implementation) in a thread of their
own, so treadle's side runs on every backend, trio included: treadle's server with
their clients, treadle's client with their servers; compression on and off.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp as real_aiohttp
import anyio
import pytest
from aiohttp import web as real_web
from websockets.sync.client import connect as sync_connect
from websockets.sync.server import ServerConnection, serve

import treadle
from treadle import web

from .server._serving import serve as treadle_serve

BIG = bytes(range(256)) * 4096  # 1 MiB


async def treadle_echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=("chat",))
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is treadle.WSMsgType.TEXT:
            if msg.data == "close please":
                await ws.close(code=4002, message=b"as asked")
            else:
                await ws.send_str(msg.data)
        elif msg.type is treadle.WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


@contextlib.asynccontextmanager
async def treadle_server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/ws", treadle_echo)
    async with treadle_serve(app) as (url, _):
        yield url.replace("http://", "ws://") + "/ws"


# -- their clients, our server --------------------------------------------------------------


@pytest.mark.parametrize("compression", ["deflate", None])
async def test_websockets_client_with_treadle_server(compression: str | None) -> None:
    def client(url: str) -> dict[str, Any]:
        with sync_connect(
            url, compression=compression, max_size=None, subprotocols=["chat"], open_timeout=5
        ) as peer:
            result: dict[str, Any] = {"subprotocol": peer.subprotocol}
            result["extensions"] = [type(ext).__name__ for ext in peer.protocol.extensions]
            peer.send("héllo")
            result["text"] = peer.recv(timeout=5)
            peer.send(BIG)
            result["big"] = peer.recv(timeout=5) == BIG
            peer.send(["frag", "mented"])
            result["fragmented"] = peer.recv(timeout=5)
            peer.ping(b"?").wait(5)
            peer.send("close please")
            with contextlib.suppress(Exception):
                peer.recv(timeout=5)
            result["close"] = (peer.close_code, peer.close_reason)
        return result

    async with treadle_server() as url:
        with anyio.fail_after(20):
            result = await anyio.to_thread.run_sync(client, url)
    assert result == {
        "subprotocol": "chat",
        "extensions": ["PerMessageDeflate"] if compression else [],
        "text": "héllo",
        "big": True,
        "fragmented": "fragmented",
        "close": (4002, "as asked"),
    }


@pytest.mark.parametrize("compress", [15, 0])
async def test_aiohttp_client_with_treadle_server(compress: int) -> None:
    async def client(url: str) -> dict[str, Any]:
        async with (
            real_aiohttp.ClientSession() as session,
            session.ws_connect(url, protocols=("chat",), compress=compress) as ws,
        ):
            result: dict[str, Any] = {"protocol": ws.protocol, "compress": ws.compress}
            await ws.send_str("héllo")
            result["text"] = await ws.receive_str(timeout=5)
            await ws.send_bytes(BIG)
            result["big"] = await ws.receive_bytes(timeout=5) == BIG
            await ws.ping(b"?")
            await ws.send_str("close please")
            msg = await ws.receive(timeout=5)
            result["close"] = (msg.type.name, msg.data, msg.extra)
        return result

    async with treadle_server() as url:
        with anyio.fail_after(20):
            result = await anyio.to_thread.run_sync(lambda: asyncio.run(client(url)))
    assert result == {
        "protocol": "chat",
        "compress": compress,
        "text": "héllo",
        "big": True,
        "close": ("CLOSE", 4002, "as asked"),
    }


# -- our client, their servers --------------------------------------------------------------


def _websockets_echo(peer: ServerConnection) -> None:
    for message in peer:
        if message == "close please":
            peer.close(code=4003, reason="bye")
            return
        peer.send(message)


@contextlib.contextmanager
def websockets_server(compression: str | None) -> Iterator[str]:
    with serve(_websockets_echo, "127.0.0.1", 0, compression=compression, max_size=None) as srv:
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"ws://127.0.0.1:{srv.socket.getsockname()[1]}/"
        finally:
            srv.shutdown()
            thread.join(5)


@contextlib.contextmanager
def aiohttp_server() -> Iterator[str]:
    """aiohttp's echo server on its own event loop in a thread."""
    ready: dict[str, Any] = {}
    started = threading.Event()

    async def handler(request: real_web.Request) -> real_web.WebSocketResponse:
        ws = real_web.WebSocketResponse(protocols=("chat",))
        await ws.prepare(request)
        async for msg in ws:
            if msg.type is real_aiohttp.WSMsgType.TEXT:
                if msg.data == "close please":
                    await ws.close(code=4003, message=b"bye")
                else:
                    await ws.send_str(msg.data)
            elif msg.type is real_aiohttp.WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    async def main() -> None:
        app = real_web.Application()
        app.router.add_get("/", handler)
        runner = real_web.AppRunner(app)
        await runner.setup()
        site = real_web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ready["port"] = runner.addresses[0][1]
        stop = ready["stop"] = asyncio.Event()
        ready["loop"] = asyncio.get_running_loop()
        started.set()
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield f"ws://127.0.0.1:{ready['port']}/"
    finally:
        ready["loop"].call_soon_threadsafe(ready["stop"].set)
        thread.join(10)


async def _drive_treadle_client(url: str, compress: int) -> None:
    async with (
        treadle.ClientSession() as session,
        session.ws_connect(url, protocols=("chat",), compress=compress) as ws,
    ):
        await ws.send_str("héllo")
        assert await ws.receive_str(timeout=5) == "héllo"
        await ws.send_bytes(BIG)
        assert await ws.receive_bytes(timeout=5) == BIG
        await ws.ping(b"?")
        await ws.send_str("close please")
        msg = await ws.receive(timeout=5)
        assert (msg.type, msg.data, msg.extra) == (treadle.WSMsgType.CLOSE, 4003, "bye")
    assert ws.closed and ws.close_code == 4003


@pytest.mark.parametrize("compression", ["deflate", None])
async def test_treadle_client_with_websockets_server(compression: str | None) -> None:
    with websockets_server(compression) as url, anyio.fail_after(20):
        await _drive_treadle_client(url, 15 if compression else 0)


@pytest.mark.parametrize("compress", [15, 0])
async def test_treadle_client_with_aiohttp_server(compress: int) -> None:
    with aiohttp_server() as url, anyio.fail_after(20):
        await _drive_treadle_client(url, compress)


async def test_treadle_client_negotiates_deflate_with_aiohttp_server() -> None:
    with aiohttp_server() as url, anyio.fail_after(20):
        async with (
            treadle.ClientSession() as session,
            session.ws_connect(url, protocols=("chat",), compress=15) as ws,
        ):
            assert ws.protocol == "chat" and ws.compress == 15
            await ws.send_str("z" * 100_000)
            assert await ws.receive_str(timeout=5) == "z" * 100_000
