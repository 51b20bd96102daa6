"""The session's fast path: timeouts without a deadline scope, trust_env read once.

A plain request (no traces, no middlewares, a body from memory) runs without a deadline
scope of its own: ``ClientTimeout.total`` is enforced by the connection's timer (head
and body) and by a scope only around a connect that has to wait. These tests drive that
path on kept-alive connections, and check that ``trust_env`` reads the environment and
``.netrc`` once per session, in a worker thread.
"""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest

from treadle.client import _session
from treadle.client._connector import TCPConnector
from treadle.client._env import EnvSnapshot
from treadle.client._exceptions import ConnectionTimeoutError, ServerTimeoutError
from treadle.client._session import ClientSession
from treadle.client._timeout import ClientTimeout


async def test_total_timeout_on_a_reused_connection(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession(timeout=ClientTimeout(total=5)) as session:
            for _ in range(3):  # the connection is parked and reused
                async with session.get(asgi_url + "status/200") as resp:
                    assert await resp.read() == b"status 200"
            connector = session.connector
            assert connector is not None
            assert connector._pool.idle_count == 1
            with pytest.raises(ServerTimeoutError) as info:
                await session.get(asgi_url + "slow?delay=5", timeout=0.3)
            assert isinstance(info.value, TimeoutError)
            assert "slow" in str(info.value)
            async with session.get(asgi_url + "status/200") as resp:
                assert resp.status == 200


async def test_total_timeout_of_the_body_on_a_reused_connection(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            async with session.get(asgi_url + "status/200") as resp:
                await resp.read()
            timeout = ClientTimeout(total=0.4)
            async with session.get(asgi_url + "slow-body?delay=5", timeout=timeout) as resp:
                assert resp.status == 200
                assert await resp.content.readany() == b"first"
                with pytest.raises(ServerTimeoutError):
                    await resp.read()
            async with session.get(asgi_url + "status/200") as resp:
                assert resp.status == 200


async def test_deadlines_that_pass_after_the_response_do_nothing(asgi_url: str) -> None:
    # Short deadlines on many fast requests: the connection's timer is left armed when
    # an exchange ends; when it fires later it must not touch the next exchange.
    with anyio.fail_after(20):
        async with ClientSession(timeout=ClientTimeout(total=0.25)) as session:
            for _ in range(6):
                for _ in range(5):
                    async with session.get(asgi_url + "status/200") as resp:
                        assert await resp.read() == b"status 200"
                await anyio.sleep(0.1)  # old deadlines pass while the connection idles
            connector = session.connector
            assert connector is not None and connector._pool.idle_count == 1


async def test_total_timeout_waiting_for_a_slot_is_a_connection_timeout(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession(connector=TCPConnector(limit=1)) as session:
            held = await session.get(asgi_url + "slow-body?delay=5")
            try:
                with pytest.raises(ConnectionTimeoutError):
                    await session.get(asgi_url + "status/200", timeout=0.3)
            finally:
                held.release()
            async with session.get(asgi_url + "status/200") as resp:
                assert resp.status == 200


async def test_trust_env_reads_the_environment_once_in_a_thread(
    asgi_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login alice password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    threads: list[int] = []

    class Recording(EnvSnapshot):
        def __init__(self) -> None:
            threads.append(threading.get_ident())
            super().__init__()

    monkeypatch.setattr(_session, "EnvSnapshot", Recording)
    with anyio.fail_after(10):
        async with ClientSession(trust_env=True) as session:
            for _ in range(3):
                async with session.get(asgi_url + "echo") as resp:
                    data = await resp.json()
                auth = [v for k, v in data["headers"] if k == "authorization"]
                assert auth == ["Basic YWxpY2U6c2VjcmV0"]
    assert len(threads) == 1
    assert threads[0] != threading.get_ident()
