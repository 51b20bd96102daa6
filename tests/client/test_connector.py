"""TCPConnector over loopback against a real server, on asyncio, uvloop and trio."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import pytest

from treadle.backends import get_backend
from treadle.client._connector import TCPConnector, UnixConnector
from treadle.client._exceptions import (
    ClientConnectionError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ConnectionTimeoutError,
    UnixClientConnectorError,
)
from treadle.client._interfaces import ConnectionKey
from treadle.client._timeout import ClientTimeout
from treadle.protocol import Request

from ._peer_server import Answer, PeerHandler, http_request, peer_server


def key_for(port: int, host: str = "127.0.0.1") -> ConnectionKey:
    return ConnectionKey(host, port, False)


async def fetch(
    connector: TCPConnector, key: ConnectionKey, path: str = "/"
) -> tuple[int, bytes, bool]:
    exchange = await connector.connect(key)
    try:
        exchange.send_head(http_request(path))
        await exchange.end_body()
        head = await exchange.read_head()
        body = await exchange.content.read()
    except BaseException:
        exchange.close()
        raise
    exchange.release()
    return head.status_code, body, exchange.reused


async def test_sequential_requests_reuse_one_connection() -> None:
    with anyio.fail_after(10):
        async with peer_server() as server, TCPConnector() as connector:
            key = key_for(server.port)
            reused = []
            for i in range(20):
                status, body, was_reused = await fetch(connector, key, f"/{i}")
                assert (status, body) == (200, f"GET /{i} ".encode())
                reused.append(was_reused)
            assert server.accepted == 1
            assert reused == [False] + [True] * 19


async def test_post_body_is_sent() -> None:
    with anyio.fail_after(10):
        async with peer_server() as server, TCPConnector() as connector:
            exchange = await connector.connect(key_for(server.port))
            exchange.send_head(http_request("/up", "POST", [(b"Content-Length", b"10")]))
            await exchange.write(b"hello")
            await exchange.write(b"world")
            await exchange.end_body()
            head = await exchange.read_head()
            assert head.status_code == 200
            assert await exchange.content.read() == b"POST /up helloworld"
            exchange.release()


@pytest.mark.parametrize(("limit", "per_host"), [(3, 0), (0, 2), (4, 2)])
async def test_limits_cap_concurrent_connections(limit: int, per_host: int) -> None:
    cap = min(x for x in (limit, per_host) if x)
    in_flight = 0
    most = 0

    async def slow(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await anyio.sleep(0.02)
        in_flight -= 1
        return 200, [(b"Content-Length", b"2")], b"ok"

    with anyio.fail_after(20):
        async with (
            peer_server(slow) as server,
            TCPConnector(limit=limit, limit_per_host=per_host) as connector,
        ):
            key = key_for(server.port)
            results: list[int] = []

            async def one() -> None:
                status, _body, _ = await fetch(connector, key)
                results.append(status)

            async with anyio.create_task_group() as tg:
                for _ in range(12):
                    tg.start_soon(one)
            assert results == [200] * 12
            assert server.max_open <= cap
            assert most == cap  # the cap was reached, so it was what held requests back
            assert connector._pool.in_use == 0 and connector._pool.waiting == 0


async def test_per_host_limit_does_not_block_other_hosts() -> None:
    gate = anyio.Event()

    async def held(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        if request.target == b"/hold":
            await gate.wait()
        return 200, [(b"Content-Length", b"0")], b""

    with anyio.fail_after(10):
        async with (
            peer_server(held) as a,
            peer_server(held) as b,
            TCPConnector(limit_per_host=1) as connector,
        ):
            first = await connector.connect(key_for(a.port))
            first.send_head(http_request("/hold"))
            await first.end_body()
            # key a is at its cap; key b must not wait behind it.
            status, _, _ = await fetch(connector, key_for(b.port))
            assert status == 200
            gate.set()
            assert (await first.read_head()).status_code == 200
            await first.content.read()
            first.release()


async def test_connect_timeout_covers_waiting_for_a_slot() -> None:
    gate = anyio.Event()

    async def held(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        await gate.wait()
        return 200, [(b"Content-Length", b"0")], b""

    with anyio.fail_after(10):
        async with peer_server(held) as server, TCPConnector(limit=1) as connector:
            key = key_for(server.port)
            first = await connector.connect(key)
            with pytest.raises(ConnectionTimeoutError, match=r"127\.0\.0\.1"):
                await connector.connect(key, timeout=ClientTimeout(connect=0.05))
            assert connector._pool.waiting == 0 and connector._pool.in_use == 1
            first.close()
            assert connector._pool.in_use == 0
            gate.set()
            status, _, _ = await fetch(connector, key)
            assert status == 200


async def test_refused_connection_names_the_host() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with anyio.fail_after(10):
        async with TCPConnector() as connector:
            with pytest.raises(ClientConnectorError) as info:
                await connector.connect(key_for(port))
            assert f"127.0.0.1:{port}" in str(info.value)
            assert isinstance(info.value.os_error, ConnectionRefusedError)
            assert connector._pool.in_use == 0


async def test_dns_failure_is_a_dns_error() -> None:
    class Failing:
        async def resolve(self, host: str, port: int, family: int = 0) -> list[Any]:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with anyio.fail_after(10):
        async with TCPConnector(resolver=Failing()) as connector:
            with pytest.raises(ClientConnectorDNSError, match=r"nowhere\.invalid"):
                await connector.connect(key_for(80, "nowhere.invalid"))
            assert connector._pool.in_use == 0


async def test_custom_resolver_and_dns_cache(tmp_path: Any) -> None:
    calls: list[str] = []

    class Local:
        async def resolve(self, host: str, port: int, family: int = 0) -> list[dict[str, Any]]:
            calls.append(host)
            return [{"host": "127.0.0.1", "port": port, "family": socket.AF_INET}]

    with anyio.fail_after(10):
        async with (
            peer_server() as server,
            TCPConnector(resolver=Local(), force_close=True) as connector,
        ):
            key = key_for(server.port, "service.test")
            for _ in range(3):
                status, _, _ = await fetch(connector, key)
                assert status == 200
            assert calls == ["service.test"]  # cached for ttl_dns_cache
            assert server.accepted == 3  # force_close: a new connection each time


async def test_unix_connector(tmp_path: Any) -> None:
    path = str(tmp_path / "s.sock")
    backend = get_backend()
    accepted = 0

    class Handler:
        def connection_made(self, conn: Any) -> None:
            nonlocal accepted
            accepted += 1
            self.conn = conn

        def data_received(self, data: bytes) -> None:
            if data.endswith(b"\r\n\r\n"):
                self.conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nunix")

        def eof_received(self) -> None:
            self.conn.close()

        def connection_lost(self, exc: BaseException | None) -> None:
            pass

    with anyio.fail_after(10):
        listener = await backend.serve_unix(Handler, path)
        try:
            async with UnixConnector(path) as connector:
                key = key_for(80, "localhost")
                for _ in range(2):
                    status, body, _ = await fetch(connector, key)  # type: ignore[arg-type]
                    assert (status, body) == (200, b"unix")
                assert accepted == 1
        finally:
            await listener.aclose()
        async with UnixConnector(str(tmp_path / "missing.sock")) as connector:
            with pytest.raises(UnixClientConnectorError, match=r"missing\.sock"):
                await connector.connect(key_for(80, "localhost"))


async def test_closed_connector_refuses_and_wakes_waiters() -> None:
    with anyio.fail_after(10):
        async with peer_server() as server:
            connector = TCPConnector(limit=1)
            key = key_for(server.port)
            first = await connector.connect(key)
            errors: list[BaseException] = []

            async def waiter() -> None:
                try:
                    await connector.connect(key)
                except ClientConnectionError as exc:
                    errors.append(exc)

            async with anyio.create_task_group() as tg:
                tg.start_soon(waiter)
                await anyio.sleep(0.01)
                await connector.close()
            assert len(errors) == 1 and "closed" in str(errors[0])
            assert connector.closed
            first.close()
            with pytest.raises(ClientConnectionError):
                await connector.connect(key)


async def test_unclosed_connector_with_open_connections_warns() -> None:
    with anyio.fail_after(10):
        async with peer_server() as server:
            connector = TCPConnector()
            await fetch(connector, key_for(server.port))
            assert connector._pool.idle_count == 1
            connections = list(connector._connections)
            with pytest.warns(ResourceWarning, match="Unclosed connector"):
                connector.__del__()
            for conn in connections:  # close by hand what the warning was about
                assert conn.conn is not None
                conn.conn.abort()
            connector._closed = True
