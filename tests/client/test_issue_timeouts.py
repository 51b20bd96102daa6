"""``ClientTimeout`` semantics the other timeout tests leave open, on every backend:
``sock_connect`` on a connection attempt that never completes, the messages (each names
the URL or host), aiohttp's defaults and replacement rule for per-request timeouts, and
a timeout that ends one request of a task group without touching the others."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import anyio
import pytest

import treadle as aiohttp
from treadle.protocol import Request

from ._peer_server import Answer, PeerHandler, peer_server


@contextlib.contextmanager
def unanswered_port() -> Iterator[int]:
    """A port whose accept queue is full: new SYNs are dropped, connect() never completes.

    ``listen(0)`` and a few connections nobody accepts fill the queue (Linux drops the
    SYNs that follow rather than refusing them).
    """
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port: int = server.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):
                filler = socket.socket()
                filler.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    filler.connect(("127.0.0.1", port))
                fillers.append(filler)
            yield port
        finally:
            for filler in fillers:
                filler.close()


async def slow(request: Request, body: bytes, handler: PeerHandler) -> Answer:
    delay = float(request.target.rpartition(b"=")[2] or b"0")
    await anyio.sleep(delay)
    return 200, [(b"Content-Length", b"2")], b"ok"


async def test_sock_connect_bounds_each_connection_attempt() -> None:
    with unanswered_port() as port, anyio.fail_after(10):
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/x"
            with pytest.raises(aiohttp.ConnectionTimeoutError) as info:
                await session.get(url, timeout=aiohttp.ClientTimeout(sock_connect=0.3))
            error = info.value
            assert isinstance(error, aiohttp.ServerTimeoutError)
            assert isinstance(error, aiohttp.ClientConnectorError | aiohttp.ClientConnectionError)
            assert isinstance(error, TimeoutError)
            assert f"127.0.0.1:{port}" in str(error)
            # connect=... bounds the same wait as a whole
            with pytest.raises(aiohttp.ConnectionTimeoutError) as info:
                await session.get(url, timeout=aiohttp.ClientTimeout(connect=0.3))
            assert f"127.0.0.1:{port}" in str(info.value)
            # and so does total, which names the URL
            with pytest.raises(aiohttp.ConnectionTimeoutError) as info:
                await session.get(url, timeout=aiohttp.ClientTimeout(total=0.3))
            assert url in str(info.value)
            connector = session.connector
            assert connector is not None
            assert connector._pool.in_use == 0 and not connector._connections


async def test_timeout_messages_name_the_request() -> None:
    with anyio.fail_after(10):
        async with peer_server(slow) as server, aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{server.port}/slow?d=5"
            with pytest.raises(aiohttp.SocketTimeoutError) as read_info:
                await session.get(url, timeout=aiohttp.ClientTimeout(sock_read=0.2))
            with pytest.raises(aiohttp.ServerTimeoutError) as total_info:
                await session.get(url, timeout=aiohttp.ClientTimeout(total=0.2))
    for error in (read_info.value, total_info.value):
        assert isinstance(error, TimeoutError)
        assert str(error), "a timeout error says what timed out"
    assert url in str(total_info.value)
    assert "/slow" in str(read_info.value) or "read" in str(read_info.value).lower()


async def test_defaults_and_per_request_replacement() -> None:
    assert aiohttp.ClientSession().timeout == aiohttp.ClientTimeout(total=300, sock_connect=30)
    with anyio.fail_after(10):
        async with (
            peer_server(slow) as server,
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(sock_read=0.1)) as session,
        ):
            base = f"http://127.0.0.1:{server.port}/slow?d="
            with pytest.raises(aiohttp.SocketTimeoutError):
                await session.get(base + "0.4")
            # a request's ClientTimeout replaces the session's as a whole (aiohttp): the
            # session's sock_read does not apply to it
            async with session.get(base + "0.4", timeout=aiohttp.ClientTimeout(total=5)) as r:
                assert await r.read() == b"ok"
            async with session.get(base + "0.4", timeout=None) as r:  # no timeout at all
                assert await r.read() == b"ok"
            with pytest.raises(aiohttp.ServerTimeoutError):
                await session.get(base + "2", timeout=0.2)  # a number is the total


async def test_a_timeout_ends_only_its_own_request() -> None:
    results: dict[str, object] = {}

    async def fetch(session: aiohttp.ClientSession, name: str, url: str, total: float) -> None:
        try:
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=total)) as resp:
                results[name] = await resp.read()
        except TimeoutError as exc:
            results[name] = exc

    with anyio.fail_after(10):
        async with peer_server(slow) as server, aiohttp.ClientSession() as session:
            base = f"http://127.0.0.1:{server.port}/slow?d="
            async with anyio.create_task_group() as group:
                group.start_soon(fetch, session, "late", base + "3", 0.2)
                group.start_soon(fetch, session, "fast", base + "0.3", 5)
                group.start_soon(fetch, session, "instant", base + "0", 5)
            connector = session.connector
            assert connector is not None and connector._pool.in_use == 0
    assert isinstance(results["late"], aiohttp.ServerTimeoutError)
    assert results["fast"] == results["instant"] == b"ok"
