"""ClientTimeout through ClientSession: total (head and body), sock_read, connect."""

from __future__ import annotations

import socket

import anyio
import pytest

from treadle.client._connector import TCPConnector
from treadle.client._exceptions import (
    ConnectionTimeoutError,
    ServerTimeoutError,
    SocketTimeoutError,
)
from treadle.client._session import ClientSession
from treadle.client._timeout import ClientTimeout


async def test_total_timeout_on_the_head(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession(timeout=ClientTimeout(total=0.3)) as session:
            with pytest.raises(ServerTimeoutError) as info:
                await session.get(asgi_url + "slow?delay=5")
            assert isinstance(info.value, TimeoutError)
            assert "slow" in str(info.value)
            # the session is still usable, and a per-request timeout overrides
            async with session.get(asgi_url + "slow?delay=0.05", timeout=5) as resp:
                assert await resp.read() == b"late"


async def test_total_timeout_covers_reading_the_body(asgi_url: str) -> None:
    with anyio.fail_after(10):
        session = ClientSession(timeout=ClientTimeout(total=0.5))
        async with session, session.get(asgi_url + "slow-body?delay=5") as resp:
            assert resp.status == 200
            with pytest.raises(ServerTimeoutError):
                await resp.read()


async def test_sock_read_timeout(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            timeout = ClientTimeout(sock_read=0.3)
            with pytest.raises(SocketTimeoutError):
                await session.get(asgi_url + "slow?delay=5", timeout=timeout)
            async with session.get(asgi_url + "slow-body?delay=5", timeout=timeout) as resp:
                assert await resp.content.readany() == b"first"
                with pytest.raises(ServerTimeoutError):
                    await resp.read()


async def test_timeout_as_a_number_and_none(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            with pytest.raises(TimeoutError):
                await session.get(asgi_url + "slow?delay=5", timeout=0.2)
            async with session.get(asgi_url + "status/200", timeout=None) as resp:
                assert resp.status == 200


async def test_connect_timeout_waiting_for_a_pool_slot(asgi_url: str) -> None:
    with anyio.fail_after(10):
        connector = TCPConnector(limit=1)
        async with ClientSession(connector=connector) as session:
            held = await session.get(asgi_url + "slow-body?delay=5")  # holds the only slot
            try:
                with pytest.raises(ConnectionTimeoutError):
                    await session.get(asgi_url + "status/200", timeout=ClientTimeout(connect=0.2))
            finally:
                held.release()
            async with session.get(asgi_url + "status/200") as resp:
                assert resp.status == 200


async def test_total_timeout_while_connecting_is_a_connection_timeout() -> None:
    # The only pool slot is held by a request waiting for a head that never comes (the
    # socket listens but never answers); the second request's total deadline passes
    # while it is still getting a connection: that is a ConnectionTimeoutError.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        with anyio.fail_after(10):
            connector = TCPConnector(limit=1)
            session = ClientSession(connector=connector)

            async def hold() -> None:
                with pytest.raises(TimeoutError):
                    await session.get(f"http://127.0.0.1:{port}/", timeout=1.0)

            async with session, anyio.create_task_group() as group:
                group.start_soon(hold)  # takes the only slot, waits for a head forever
                await anyio.sleep(0.1)
                with pytest.raises(ConnectionTimeoutError):
                    await session.get(f"http://127.0.0.1:{port}/", timeout=0.2)
