"""The pool through ``ClientSession`` on every backend: ``limit``/``limit_per_host`` caps
hold for session requests, and cancelling requests at any moment -- while queued,
connecting, uploading, following a redirect, or reading the body -- leaves no pool slot,
waiter, connection or file descriptor behind (a deadline swept across the whole of a
mixed batch of requests, and hypothesis-chosen cancellation moments)."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import treadle as aiohttp
from treadle.protocol import Request

from ._peer_server import Answer, PeerHandler, PeerServer, peer_server


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


class Local:
    """Any ``*.test`` name is 127.0.0.1 (so several hosts share one server)."""

    async def resolve(self, host: str, port: int, family: int = 0) -> list[dict[str, Any]]:
        await anyio.sleep(0)
        return [{"hostname": host, "host": "127.0.0.1", "port": port, "family": socket.AF_INET}]

    async def close(self) -> None:
        pass


async def mixed(request: Request, body: bytes, handler: PeerHandler) -> Answer:
    """/redirect -> /body; /body: a 64 KiB body written in pieces with pauses."""
    target = request.target
    if target.startswith(b"/redirect"):
        return 302, [(b"Location", b"/body"), (b"Content-Length", b"0")], b""
    if target.startswith(b"/body"):
        conn = handler.conn
        assert conn is not None
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n"
        conn.write(head)
        for _ in range(8):
            await anyio.sleep(0.001)
            if conn.is_closing():
                return None
            conn.write(b"b" * 8192)
        return None
    await anyio.sleep(0.001)
    return 200, [(b"Content-Length", str(len(body)).encode())], body


async def settle(session: aiohttp.ClientSession, server: PeerServer) -> None:
    """Wait for closed sockets to go, then check the books balance."""
    connector = session.connector
    if connector is None:
        return
    pool = connector._pool
    for _ in range(300):
        if server.open == pool.idle_count and len(connector._connections) == pool.idle_count:
            break
        await anyio.sleep(0.005)
    assert pool.in_use == 0
    assert pool.waiting == 0
    assert len(connector._connections) == pool.idle_count
    assert server.open == pool.idle_count


async def batch(session: aiohttp.ClientSession, base: str) -> None:
    """Requests that exercise every await point of the session."""

    async def upload() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"u" * 4096
            await anyio.sleep(0)

    async def get_redirected() -> None:
        async with session.get(base + "/redirect") as resp:
            await resp.read()

    async def post_streamed() -> None:
        async with session.post(base + "/echo", data=upload()) as resp:
            await resp.read()

    async def read_in_pieces() -> None:
        async with session.get(base + "/body") as resp:
            async for _ in resp.content.iter_chunked(1000):
                pass

    async def post_json() -> None:
        async with session.post(base + "/echo", json={"k": "v"}) as resp:
            await resp.json(content_type=None)

    async with anyio.create_task_group() as group:
        for job in (get_redirected, post_streamed, read_in_pieces, post_json):
            group.start_soon(job)


async def test_session_requests_respect_limit_and_limit_per_host() -> None:
    in_flight: dict[bytes, int] = {}
    most: dict[bytes, int] = {}
    total = {"now": 0, "most": 0}

    async def slow(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        host = dict(request.headers)[b"Host"].split(b":")[0]
        in_flight[host] = in_flight.get(host, 0) + 1
        most[host] = max(most.get(host, 0), in_flight[host])
        total["now"] += 1
        total["most"] = max(total["most"], total["now"])
        await anyio.sleep(0.02)
        in_flight[host] -= 1
        total["now"] -= 1
        return 200, [(b"Content-Length", b"2")], b"ok"

    connector = aiohttp.TCPConnector(resolver=Local(), limit=5, limit_per_host=2)
    with anyio.fail_after(20):
        async with peer_server(slow) as server, aiohttp.ClientSession(connector=connector) as s:

            async def one(host: str) -> None:
                async with s.get(f"http://{host}:{server.port}/") as resp:
                    assert await resp.read() == b"ok"

            async with anyio.create_task_group() as group:
                for i in range(30):
                    group.start_soon(one, f"h{i % 3}.test")
            # (the server may briefly count more open sockets: an idle connection of
            # another host is closed to make room, and its FIN arrives a little later)
            assert total["most"] == 5
            assert all(n <= 2 for n in most.values()) and max(most.values()) == 2
            await settle(s, server)


async def test_a_deadline_swept_across_a_batch_leaks_nothing() -> None:
    with anyio.fail_after(90):
        async with peer_server(mixed) as server:
            baseline = fd_count()
            connector = aiohttp.TCPConnector(resolver=Local(), limit=3)
            async with aiohttp.ClientSession(connector=connector) as session:
                base = f"http://svc.test:{server.port}"
                started = anyio.current_time()
                await batch(session, base)
                whole = anyio.current_time() - started
                await settle(session, server)
                finished = 0
                for step in range(50):  # from 0 to 1.2 times a whole batch
                    with anyio.move_on_after(step * whole / 40) as scope:
                        await batch(session, base)
                    finished += not scope.cancelled_caught
                    await settle(session, server)
                assert finished > 0  # the sweep reached past the end of a whole batch
                await batch(session, base)  # and the pool still works
                await settle(session, server)
            for _ in range(200):  # closed sockets are released a loop turn later
                if fd_count() <= baseline:
                    break
                await anyio.sleep(0.005)
            assert fd_count() <= baseline


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    delays=st.lists(st.floats(0, 0.02), min_size=1, max_size=4),
    limit=st.integers(1, 3),
)
async def test_cancellation_at_chosen_moments_leaks_nothing(
    delays: list[float], limit: int
) -> None:
    with anyio.fail_after(30):
        async with peer_server(mixed) as server:
            connector = aiohttp.TCPConnector(resolver=Local(), limit=limit)
            async with aiohttp.ClientSession(connector=connector) as session:
                base = f"http://svc.test:{server.port}"
                for delay in delays:
                    with anyio.move_on_after(delay):
                        await batch(session, base)
                    await settle(session, server)


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
async def test_idempotent_methods_are_retried_on_a_dead_pooled_connection(method: str) -> None:
    requests = 0

    async def drop_second(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        nonlocal requests
        requests += 1
        if requests == 2:
            assert handler.conn is not None
            handler.conn.abort()  # the pooled connection dies under the request
            return None
        return 200, [(b"Content-Length", b"2")], b"" if request.method == b"HEAD" else b"ok"

    with anyio.fail_after(10):
        async with peer_server(drop_second) as server, aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{server.port}/"
            async with session.get(url) as resp:
                await resp.read()
            async with session.request(method, url) as resp:
                assert resp.status == 200
            assert requests == 3 and server.accepted == 2
            await settle(session, server)


async def test_a_dead_connection_is_retried_once_only() -> None:
    async def drop_all_but_first(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        assert handler.conn is not None
        if handler.server.requests > 1:
            handler.conn.abort()
            return None
        return 200, [(b"Content-Length", b"2")], b"ok"

    with anyio.fail_after(10):
        async with peer_server(drop_all_but_first) as server, aiohttp.ClientSession() as s:
            url = f"http://127.0.0.1:{server.port}/"
            async with s.get(url) as resp:
                await resp.read()
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await s.get(url)
            # the pooled connection, then one new one: no retry of the retry
            assert server.requests == 3 and server.accepted == 2
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await s.get(url)  # a new connection dies: not retried at all
            assert server.requests == 4 and server.accepted == 3
            await settle(s, server)


async def test_errors_anywhere_leave_nothing_behind() -> None:
    failing = aiohttp.TraceConfig()

    async def explode(session: Any, ctx: Any, params: Any) -> None:
        if ctx.trace_request_ctx == "explode":
            raise RuntimeError("trace handler failed")

    failing.on_connection_create_end.append(explode)

    async def upload() -> AsyncIterator[bytes]:
        yield b"u" * 1000
        raise OSError("the file went away")

    with anyio.fail_after(20):
        async with (
            peer_server(mixed) as server,
            aiohttp.ClientSession(trace_configs=[failing]) as session,
        ):
            base = f"http://127.0.0.1:{server.port}"
            with pytest.raises(RuntimeError, match="trace handler"):
                await session.get(base + "/echo", trace_request_ctx="explode")
            await settle(session, server)
            with pytest.raises(KeyError):
                async with session.get(base + "/body") as resp:
                    await resp.content.read(10)
                    raise KeyError("the caller's own error, mid-body")
            await settle(session, server)
            with pytest.raises(OSError, match="went away"):
                await session.post(base + "/echo", data=upload())
            await settle(session, server)
            with pytest.raises(TypeError):
                await session.post(base + "/echo", data=object())
            await settle(session, server)
            async with session.get(base + "/body") as resp:  # and everything still works
                assert len(await resp.read()) == 65536
            await settle(session, server)
