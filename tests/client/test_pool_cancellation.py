"""No pool slot, waiter or socket is left behind by a cancellation at any await point."""

from __future__ import annotations

import os
import socket
from typing import Any

import anyio
import pytest

from treadle.client._connector import TCPConnector
from treadle.client._interfaces import ConnectionKey
from treadle.client._pool import Pool
from treadle.protocol import Request

from ._peer_server import Answer, PeerHandler, PeerServer, http_request, peer_server


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


TRACE_POINTS = [
    "send_connection_queued_start",
    "send_connection_queued_end",
    "send_connection_create_start",
    "send_connection_create_end",
    "send_connection_reuseconn",
    "send_dns_resolvehost_start",
    "send_dns_resolvehost_end",
    "send_dns_cache_hit",
    "send_dns_cache_miss",
]


class CancellingTrace:
    """Records the trace calls; cancels its scope on the ``cancel_at``-th one."""

    def __init__(self, scope: anyio.CancelScope | None = None, cancel_at: int = 0) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.scope = scope
        self.cancel_at = cancel_at

    def __getattr__(self, name: str) -> Any:
        if name not in TRACE_POINTS:
            raise AttributeError(name)

        async def send(*args: Any) -> None:
            self.calls.append((name, args))
            if self.scope is not None and len(self.calls) == self.cancel_at:
                self.scope.cancel()
            await anyio.sleep(0)

        return send


class Local:
    async def resolve(self, host: str, port: int, family: int = 0) -> list[dict[str, Any]]:
        await anyio.sleep(0)
        return [{"host": "127.0.0.1", "port": port, "family": socket.AF_INET}]


async def settle(connector: TCPConnector, server: PeerServer) -> None:
    """Wait until closed sockets are gone, then check the books balance."""
    pool = connector._pool
    for _ in range(200):
        if server.open == pool.idle_count and len(connector._connections) == pool.idle_count:
            break
        await anyio.sleep(0.005)
    assert pool.in_use == 0
    assert pool.waiting == 0
    assert len(connector._connections) == pool.idle_count
    assert server.open == pool.idle_count


async def one_request(connector: TCPConnector, key: ConnectionKey, traces: Any = ()) -> None:
    exchange = await connector.connect(key, traces=traces)
    try:
        exchange.send_head(http_request())
        await exchange.end_body()
        await exchange.read_head()
        await exchange.content.read()
    except BaseException:
        exchange.close()
        raise
    exchange.release()


async def test_trace_calls_in_order() -> None:
    with anyio.fail_after(10):
        async with peer_server() as server, TCPConnector(resolver=Local()) as connector:
            key = ConnectionKey("svc.test", server.port, False)
            trace = CancellingTrace()
            await one_request(connector, key, [trace])
            await one_request(connector, key, [trace])
            connector._pool.pop_all_idle()  # force a new connection: DNS from the cache
            connector._connections.clear()
            await one_request(connector, key, [trace])
            names = [name for name, _ in trace.calls]
            assert names == [
                "send_connection_create_start",
                "send_dns_cache_miss",
                "send_dns_resolvehost_start",
                "send_dns_resolvehost_end",
                "send_connection_create_end",
                "send_connection_reuseconn",
                "send_connection_create_start",
                "send_dns_cache_hit",
                "send_connection_create_end",
            ]
            assert trace.calls[1][1] == ("svc.test",)
            server.close_all()


@pytest.mark.parametrize("cancel_at", range(1, 6))
async def test_cancel_at_each_trace_point_of_a_new_connection(cancel_at: int) -> None:
    with anyio.fail_after(10):
        async with peer_server() as server, TCPConnector(resolver=Local()) as connector:
            key = ConnectionKey("svc.test", server.port, False)
            with anyio.CancelScope() as scope:
                trace = CancellingTrace(scope, cancel_at)
                await one_request(connector, key, [trace])
            assert scope.cancelled_caught
            await settle(connector, server)
            await one_request(connector, key)  # the pool still works
            await settle(connector, server)


@pytest.mark.parametrize("cancel_at", [1, 2, 3])
async def test_cancel_while_queued_or_reusing(cancel_at: int) -> None:
    gate = anyio.Event()

    async def held(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        if request.target == b"/hold":
            await gate.wait()
        return 200, [(b"Content-Length", b"0")], b""

    with anyio.fail_after(10):
        async with peer_server(held) as server, TCPConnector(limit=1) as connector:
            key = ConnectionKey("127.0.0.1", server.port, False)
            await one_request(connector, key)  # one idle connection to reuse later
            holder = await connector.connect(key)
            holder.send_head(http_request("/hold"))
            await holder.end_body()

            async def release_soon() -> None:
                await anyio.sleep(0.02)
                gate.set()
                await holder.read_head()
                await holder.content.read()
                holder.release()

            async with anyio.create_task_group() as tg:
                tg.start_soon(release_soon)
                with anyio.CancelScope() as scope:
                    # 1: queued_start, 2: queued_end, 3: reuseconn.
                    await one_request(connector, key, [CancellingTrace(scope, cancel_at)])
                assert scope.cancelled_caught
            await settle(connector, server)
            assert connector._pool.idle_count == 1
            await one_request(connector, key)
            await settle(connector, server)


async def test_cancel_at_any_moment_of_a_request() -> None:
    """Deadlines swept over the whole of connect + exchange, new and reused connections."""

    async def slowish(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        await anyio.sleep(0.002)
        return 200, [(b"Content-Length", b"5")], b"hello"

    with anyio.fail_after(60):
        async with peer_server(slowish) as server:
            baseline = fd_count()
            async with TCPConnector(resolver=Local(), limit=2) as connector:
                key = ConnectionKey("svc.test", server.port, False)
                for step in range(40):
                    with anyio.move_on_after(step * 0.0003):
                        async with anyio.create_task_group() as tg:
                            for _ in range(3):
                                tg.start_soon(one_request, connector, key)
                    if step % 5 == 0:
                        connector._resolver.clear()
                    await settle(connector, server)
            for _ in range(200):  # closed sockets are released a loop turn later
                if fd_count() <= baseline:
                    break
                await anyio.sleep(0.005)
            assert fd_count() <= baseline


def test_pool_hands_freed_slots_first_come_first_served() -> None:
    pool: Pool[str, Any] = Pool(limit=1, limit_per_host=0)
    woken: list[str] = []
    assert pool.try_acquire("a")
    first = pool.enqueue("b", lambda: woken.append("first"))
    second = pool.enqueue("a", lambda: woken.append("second"))
    assert not pool.try_acquire("c")  # a newcomer does not overtake the line
    pool.release("a")
    assert woken == ["first"] and first.granted and not second.granted
    pool.cancel_waiter(first)  # gave up after being granted: the slot moves on
    assert woken == ["first", "second"] and second.granted
    pool.release("a")
    assert pool.in_use == 0 and pool.waiting == 0


def test_pool_per_host_waiter_does_not_block_other_keys() -> None:
    pool: Pool[str, Any] = Pool(limit=10, limit_per_host=1)
    assert pool.try_acquire("a")
    pool.enqueue("a", lambda: None)
    assert pool.try_acquire("b")  # the waiter for "a" could not use a slot anyway
    assert pool.in_use_for("b") == 1
