"""ClientSession features: middlewares, stale-connection retry, trust_env, proxies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from treadle.client._auth import BasicAuth
from treadle.client._exceptions import ServerDisconnectedError
from treadle.client._request import ClientRequest
from treadle.client._response import ClientResponse
from treadle.client._session import ClientSession
from treadle.client._session_request import ClientHandlerType
from treadle.protocol import Request

from ._peer_server import PeerHandler, peer_server
from .proxy_fixture import ProxyServer
from .proxy_fixture import http_proxy_auth as _proxy_fixture  # noqa: F401  (registers it)


def header(data: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in data["headers"] if k == name.lower()]


async def test_middlewares_wrap_in_order_and_can_retry(asgi_url: str) -> None:
    calls: list[str] = []

    async def outer(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        calls.append("outer")
        request.headers["X-Outer"] = "1"
        return await handler(request)

    async def retry_once(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        calls.append("inner")
        response = await handler(request)
        if response.status == 404:
            response.release()
            request.url = request.url.with_path("/echo")
            response = await handler(request)
        return response

    with anyio.fail_after(10):
        async with ClientSession(middlewares=(outer, retry_once)) as session:
            async with session.get(asgi_url + "missing") as resp:
                data = await resp.json()
            assert calls == ["outer", "inner"]
            assert header(data, "x-outer") == ["1"]
            async with session.get(asgi_url + "echo", middlewares=()) as resp:
                assert header(await resp.json(), "x-outer") == []
            assert calls == ["outer", "inner"]


def _close_after_first(state: dict[str, int]) -> Any:
    async def respond(request: Request, body: bytes, handler: PeerHandler) -> Any:
        state["requests"] += 1
        assert handler.conn is not None
        if state["requests"] == 2:
            handler.conn.close()  # a keep-alive connection the server dropped
            return None
        payload = b"ok %d" % state["requests"]
        return 200, [(b"Content-Length", str(len(payload)).encode())], payload

    return respond


async def test_stale_pooled_connection_is_retried_once_for_idempotent_requests() -> None:
    state = {"requests": 0}
    with anyio.fail_after(10):
        async with (
            peer_server(_close_after_first(state)) as server,
            ClientSession() as session,
        ):
            url = f"http://127.0.0.1:{server.port}/"
            async with session.get(url) as resp:
                assert await resp.read() == b"ok 1"
            async with session.get(url) as resp:  # reused connection dies: retried
                assert await resp.read() == b"ok 3"
            assert server.accepted == 2


async def test_stale_pooled_connection_is_not_retried_for_post() -> None:
    state = {"requests": 0}
    with anyio.fail_after(10):
        async with (
            peer_server(_close_after_first(state)) as server,
            ClientSession() as session,
        ):
            url = f"http://127.0.0.1:{server.port}/"
            async with session.get(url) as resp:
                await resp.read()
            with pytest.raises(ServerDisconnectedError):
                await session.post(url, data=b"x")


async def test_trust_env_reads_netrc(
    asgi_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login alice password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with anyio.fail_after(10):
        async with ClientSession(trust_env=True) as session:
            async with session.get(asgi_url + "echo") as resp:
                data = await resp.json()
            assert header(data, "authorization") == [BasicAuth("alice", "secret").encode()]
        # trust_env off: the file is ignored
        async with ClientSession() as session, session.get(asgi_url + "echo") as resp:
            assert header(await resp.json(), "authorization") == []


async def test_http_proxy_with_auth_and_from_env(
    asgi_url: str, http_proxy_auth: ProxyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert http_proxy_auth.login is not None and http_proxy_auth.password is not None
    auth = BasicAuth(http_proxy_auth.login, http_proxy_auth.password)
    with anyio.fail_after(20):
        async with ClientSession() as session:
            async with session.get(asgi_url + "echo", proxy=http_proxy_auth.url) as resp:
                assert resp.status == 407
            async with session.get(
                asgi_url + "echo", proxy=http_proxy_auth.url, proxy_auth=auth
            ) as resp:
                assert resp.status == 200
                assert (await resp.json())["path"] == "/echo"
        monkeypatch.setenv("HTTP_PROXY", http_proxy_auth.url_with_auth)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with ClientSession(trust_env=True) as session:
            async with session.get(asgi_url + "echo") as resp:
                assert resp.status == 200
                data = await resp.json()
            # the proxy consumed its credentials; the origin never saw them
            assert header(data, "proxy-authorization") == []


@pytest.mark.parametrize("delay", [0, 0.001, 0.01, 0.05, 0.15])
async def test_cancelling_a_request_leaks_no_connection(asgi_url: str, delay: float) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            with anyio.move_on_after(delay):
                async with session.get(asgi_url + "slow?delay=0.1") as resp:
                    await resp.read()
            with anyio.move_on_after(delay):
                async with session.get(asgi_url + "slow-body?delay=0.1") as resp:
                    await resp.read()
            connector = session.connector
            assert connector is not None
            assert connector._pool.in_use == 0
            # and the session still works afterwards
            async with session.get(asgi_url + "status/200") as resp:
                assert await resp.read() == b"status 200"
            assert connector._pool.in_use == 0


async def test_failing_middleware_and_raise_for_status_release_the_connection(
    asgi_url: str,
) -> None:
    async def broken(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        await handler(request)
        raise RuntimeError("middleware bug")

    async def check(response: ClientResponse) -> None:
        raise LookupError(response.status)

    with anyio.fail_after(10):
        async with ClientSession() as session:
            with pytest.raises(RuntimeError, match="middleware bug"):
                await session.get(asgi_url + "stream?n=5&size=100000", middlewares=(broken,))
            with pytest.raises(LookupError):
                await session.get(asgi_url + "stream?n=5&size=100000", raise_for_status=check)
            connector = session.connector
            assert connector is not None
            assert connector._pool.in_use == 0


async def test_a_middleware_may_send_a_request_it_built(asgi_url: str) -> None:
    from yarl import URL

    async def side_request(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        probe = ClientRequest("GET", URL(asgi_url + "status/204"))
        probe_response = await handler(probe)
        probe_response.release()
        request.headers["X-Probe"] = str(probe_response.status)
        return await handler(request)

    session = ClientSession(middlewares=(side_request,))
    with anyio.fail_after(10):
        async with session, session.get(asgi_url + "echo") as resp:
            assert header(await resp.json(), "x-probe") == ["204"]
