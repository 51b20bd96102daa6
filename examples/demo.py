"""``make demo``: what treadle can do, run end to end, with a request rate for each run.

1. The sans-IO protocol core alone: a blocking-socket server and client
   (``protocol_blocking.py``), once per parsing engine.
2. A treadle application (HTTP + WebSocket) served with ``AppRunner``/``TCPSite`` and
   driven by ``ClientSession`` on asyncio, uvloop and trio in turn: the same code each
   time, then the same app through the in-memory transport of ``treadle.test_utils``.

Rates are from this machine, now, and only comparable within one run.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import protocol_blocking as example  # examples/ is on sys.path when run as a script

import treadle
from treadle import WSMsgType, web
from treadle.backends import BACKEND_NAMES, get_backend, run
from treadle.protocol import available_engines
from treadle.test_utils import TestClient, TestServer

REQUESTS = 2000
CONCURRENCY = 10
WS_MESSAGES = 1000


# -- 1. the protocol core over blocking sockets -------------------------------------------


def run_engine(engine: str) -> None:
    os.environ["TREADLE_HTTP_ENGINE"] = engine
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()
    thread = threading.Thread(target=example.serve, args=(listener, stop), daemon=True)
    thread.start()
    try:
        first = example.fetch("127.0.0.1", port, [b"/hello"])
        print(f"  GET /hello -> {first[0][0]} {first[0][1]!r}")
        started = time.perf_counter()
        results = example.fetch("127.0.0.1", port, [b"/n"] * REQUESTS)
        elapsed = time.perf_counter() - started
        assert all(status == 200 for status, _ in results)
        rate = REQUESTS / elapsed
        print(f"  {REQUESTS} keep-alive requests in {elapsed:.2f}s: {rate:,.0f} req/s")
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        os.environ.pop("TREADLE_HTTP_ENGINE", None)


# -- 2. the application on each backend ----------------------------------------------------


def make_app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="Hello, treadle")

    async def double(request: web.Request) -> web.Response:
        data = await request.json()
        return web.json_response({"double": data["n"] * 2})

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data.upper())
        return ws

    app = web.Application()
    app.router.add_get("/hello", hello)
    app.router.add_post("/json", double)
    app.router.add_get("/ws", echo)
    return app


def _rate(count: int, started: float, what: str, unit: str = "req/s") -> None:
    elapsed = time.perf_counter() - started
    print(f"  {count} {what} in {elapsed:.2f}s: {count / elapsed:,.0f} {unit}")


async def _load(session: treadle.ClientSession, url: str, count: int, workers: int) -> None:
    """``count`` GETs of ``url`` from ``workers`` concurrent tasks on one session."""
    remaining = [count]

    async def worker() -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            async with session.get(url) as resp:
                await resp.read()
                assert resp.status == 200

    async with get_backend().task_group() as group:
        for _ in range(workers):
            group.start_soon(worker)


async def drive(base: str, session: treadle.ClientSession) -> None:
    """What a client does with the app; the same for TCP and memory."""
    async with session.get(base + "/hello") as resp:
        print(f"  GET /hello -> {resp.status} {await resp.text()!r}")
    async with session.post(base + "/json", json={"n": 21}) as resp:
        print(f"  POST /json {{'n': 21}} -> {resp.status} {await resp.json()}")
    async with session.ws_connect(base + "/ws") as ws:
        replies = []
        for word in ("sans", "io", "core"):
            await ws.send_str(word)
            replies.append(await ws.receive_str())
        print(f"  WebSocket /ws: sent 'sans', 'io', 'core', got {replies}")
        started = time.perf_counter()
        for _ in range(WS_MESSAGES):
            await ws.send_str("m")
            assert await ws.receive_str() == "M"
        _rate(WS_MESSAGES, started, "WebSocket round trips", "msg/s")
    started = time.perf_counter()
    await _load(session, base + "/hello", REQUESTS, 1)
    _rate(REQUESTS, started, "keep-alive GETs, one at a time")
    started = time.perf_counter()
    await _load(session, base + "/hello", REQUESTS, CONCURRENCY)
    _rate(REQUESTS, started, f"GETs, {CONCURRENCY} concurrent")


async def serve_and_drive() -> None:
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        print(f" over TCP (127.0.0.1:{port}):")
        async with treadle.ClientSession() as session:
            await drive(f"http://127.0.0.1:{port}", session)
    finally:
        await runner.cleanup()
    print(" in memory (TestServer(app, transport='memory'), no sockets):")
    async with TestClient(TestServer(make_app(), transport="memory", access_log=None)) as client:
        await drive(str(client.make_url("/")).rstrip("/"), client.session)


def main() -> None:
    print(f"treadle demo ({Path(__file__).name})")
    print("1. the sans-IO core over blocking sockets")
    for engine in available_engines():
        print(f"engine {engine}:")
        run_engine(engine)
    print("2. a treadle app (HTTP + WebSocket) and the treadle client, per backend")
    for backend in BACKEND_NAMES:
        print(f"backend {backend}:")
        run(serve_and_drive, backend=backend)


if __name__ == "__main__":
    main()
