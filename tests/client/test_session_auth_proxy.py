"""Tracing, auth, proxies, trust_env and redirects through a real ClientSession.

Peers are real: uvicorn serving ``_auth_proxy_app`` (plain and TLS with a trustme CA),
proxy.py as the forward proxy (open and Basic-auth), and httpx's own DigestAuth to show
the Digest-checking server is right before treadle's middleware is judged by it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from yarl import URL

from treadle.client._auth import BasicAuth, DigestAuthMiddleware
from treadle.client._exceptions import (
    ClientHttpProxyError,
    NonHttpUrlRedirectClientError,
    TooManyRedirects,
)
from treadle.client._session import ClientSession
from treadle.client._tracing import TraceConfig

from ._auth_proxy_server import TLSServer
from .proxy_fixture import ProxyServer

pytestmark = pytest.mark.timeout(60)


def _echo_headers(payload: dict[str, Any]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in payload["headers"]:
        headers.setdefault(name.lower(), []).append(value)
    return headers


async def _status(
    url: str, session_kw: dict[str, Any] | None = None, method: str = "GET", **kw: Any
) -> int:
    """The status of one request made by a new session."""
    async with (
        ClientSession(**(session_kw or {})) as session,
        session.request(method, url, **kw) as response,
    ):
        await response.read()
        return response.status


# -- Digest against a server that demands it ---------------------------------------------


def test_server_is_checked_by_httpx_digest(auth_app_url: str) -> None:
    # The app's verifier accepts what an independent client computes: it is a fair judge.
    auth = httpx.DigestAuth("user", "pass")
    with httpx.Client() as client:
        for algorithm in ("MD5", "SHA-256", "MD5-sess"):
            response = client.get(f"{auth_app_url}digest/{algorithm}", auth=auth)
            assert response.status_code == 200, algorithm
        assert (
            client.get(f"{auth_app_url}digest/MD5", auth=httpx.DigestAuth("user", "no")).status_code
            == 401
        )


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256"])
async def test_digest_middleware_through_the_session(auth_app_url: str, algorithm: str) -> None:
    with anyio.fail_after(20):
        digest = DigestAuthMiddleware("user", "pass")
        async with ClientSession(middlewares=(digest,)) as session:
            async with session.get(f"{auth_app_url}digest/{algorithm}?x=1") as response:
                assert response.status == 200
                assert (await response.json())["nc"] == "00000001"
            # Preemptive: the second request is answered at once with the next count.
            async with session.post(f"{auth_app_url}digest/{algorithm}", data=b"abc") as response:
                assert response.status == 200
                assert await response.json() == {"nc": "00000002", "body_length": 3}
                assert not response.history


async def test_digest_auth_int_and_rfc2069(auth_app_url: str) -> None:
    with anyio.fail_after(20):
        digest = DigestAuthMiddleware("user", "pass")
        url = f"{auth_app_url}digest/SHA-256?qop=auth-int"
        assert await _status(url, {"middlewares": (digest,)}, method="PUT", data=b"body!") == 200
        digest = DigestAuthMiddleware("user", "pass")
        url = f"{auth_app_url}digest/MD5?qop=none"
        assert await _status(url, {"middlewares": (digest,)}) == 200


async def test_digest_wrong_password_returns_the_401(auth_app_url: str) -> None:
    with anyio.fail_after(20):
        digest = DigestAuthMiddleware("user", "bad")
        assert await _status(f"{auth_app_url}digest/MD5", {"middlewares": (digest,)}) == 401


async def test_basic_auth(auth_app_url: str) -> None:
    with anyio.fail_after(20):
        async with ClientSession() as session:
            async with session.get(f"{auth_app_url}basic") as r:
                assert r.status == 401
            async with session.get(f"{auth_app_url}basic", auth=BasicAuth("user", "pass")) as r:
                assert r.status == 200
        assert await _status(f"{auth_app_url}basic", {"auth": BasicAuth("user", "pass")}) == 200


# -- proxies ---------------------------------------------------------------------------


async def test_http_through_proxy(auth_app_url: str, http_proxy: ProxyServer) -> None:
    with anyio.fail_after(20):
        async with (
            ClientSession() as session,
            session.get(f"{auth_app_url}echo?a=1", proxy=http_proxy.url) as r,
        ):
            assert r.status == 200
            payload = await r.json()
        assert payload["path"] == "/echo" and payload["query"] == {"a": "1"}
        assert "proxy-authorization" not in _echo_headers(payload)


async def test_http_through_auth_proxy(auth_app_url: str, http_proxy_auth: ProxyServer) -> None:
    with anyio.fail_after(20):
        async with ClientSession() as session:
            async with session.get(f"{auth_app_url}echo", proxy=http_proxy_auth.url) as r:
                assert r.status == 407  # the proxy answered, not the origin
            auth = BasicAuth("user", "pass")
            async with session.get(
                f"{auth_app_url}echo", proxy=http_proxy_auth.url, proxy_auth=auth
            ) as r:
                assert r.status == 200
            async with session.get(f"{auth_app_url}echo", proxy=http_proxy_auth.url_with_auth) as r:
                assert r.status == 200


async def test_https_through_connect(auth_app_tls: TLSServer, http_proxy: ProxyServer) -> None:
    with anyio.fail_after(20):
        async with ClientSession() as session:
            for _ in range(2):
                async with session.get(
                    f"{auth_app_tls.url}echo", proxy=http_proxy.url, ssl=auth_app_tls.client_context
                ) as r:
                    assert r.status == 200
                    payload = await r.json()
        assert payload["path"] == "/echo"


async def test_https_through_auth_proxy(
    auth_app_tls: TLSServer, http_proxy_auth: ProxyServer
) -> None:
    with anyio.fail_after(20):
        async with ClientSession() as session:
            with pytest.raises(ClientHttpProxyError) as info:
                await session.get(
                    f"{auth_app_tls.url}echo",
                    proxy=http_proxy_auth.url,
                    ssl=auth_app_tls.client_context,
                )
            assert info.value.status == 407
            async with session.get(
                f"{auth_app_tls.url}echo",
                proxy=http_proxy_auth.url,
                proxy_auth=BasicAuth("user", "pass"),
                ssl=auth_app_tls.client_context,
            ) as r:
                assert r.status == 200
                # The origin never sees the proxy's credentials.
                assert "proxy-authorization" not in _echo_headers(await r.json())


# -- trust_env ---------------------------------------------------------------------------


def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


async def test_trust_env_proxy_from_environment(
    auth_app_url: str, http_proxy_auth: ProxyServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _clean_env(monkeypatch, tmp_path)
    # The auth proxy without credentials: a 407 proves the request went through it.
    monkeypatch.setenv("HTTP_PROXY", http_proxy_auth.url)
    with anyio.fail_after(20):
        assert await _status(f"{auth_app_url}echo", {"trust_env": True}) == 407
        assert await _status(f"{auth_app_url}echo") == 200  # trust_env off: env not read
        monkeypatch.setenv("HTTP_PROXY", http_proxy_auth.url_with_auth)
        assert await _status(f"{auth_app_url}echo", {"trust_env": True}) == 200
        monkeypatch.setenv("HTTP_PROXY", http_proxy_auth.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert await _status(f"{auth_app_url}echo", {"trust_env": True}) == 200


async def test_trust_env_netrc(
    auth_app_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _clean_env(monkeypatch, tmp_path)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password pass\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with anyio.fail_after(20):
        assert await _status(f"{auth_app_url}basic", {"trust_env": True}) == 200
        assert await _status(f"{auth_app_url}basic") == 401


# -- redirects -------------------------------------------------------------------------


def _redirect(base: str, status: int, location: str) -> str:
    return str(URL(base).with_path("/redirect").with_query(status=str(status), location=location))


@pytest.mark.parametrize(
    ("status", "method", "expected_method", "body_kept"),
    [
        (301, "POST", "GET", False),
        (302, "POST", "GET", False),
        (303, "POST", "GET", False),
        (303, "PUT", "GET", False),
        (307, "POST", "POST", True),
        (308, "PUT", "PUT", True),
        (302, "PUT", "PUT", True),
    ],
)
async def test_redirect_methods_and_bodies(
    auth_app_url: str, status: int, method: str, expected_method: str, body_kept: bool
) -> None:
    with anyio.fail_after(20):
        async with ClientSession() as session:
            url = _redirect(auth_app_url, status, "/echo")
            async with session.request(method, url, data=b"12345") as r:
                payload = await r.json()
                assert [h.status for h in r.history] == [status]
        assert payload["method"] == expected_method
        assert payload["body_length"] == (5 if body_kept else 0)
        if not body_kept:
            assert "content-length" not in _echo_headers(payload) or _echo_headers(payload)[
                "content-length"
            ] == ["0"]


async def test_cross_origin_redirect_drops_credentials(auth_app_url: str) -> None:
    # 127.0.0.1 -> localhost: the same server under another origin.
    other = auth_app_url.replace("127.0.0.1", "localhost")
    headers = {"Authorization": "Bearer secret", "Cookie": "c=1", "X-Keep": "yes"}
    with anyio.fail_after(20):
        async with ClientSession() as session:
            async with session.get(
                _redirect(auth_app_url, 302, other + "echo"), headers=headers
            ) as r:
                seen = _echo_headers(await r.json())
            assert "authorization" not in seen and "cookie" not in seen
            assert seen["x-keep"] == ["yes"]
            async with session.get(_redirect(auth_app_url, 302, "/echo"), headers=headers) as r:
                seen = _echo_headers(await r.json())
            assert seen["authorization"] == ["Bearer secret"]


async def test_redirect_to_non_http_is_refused(auth_app_url: str) -> None:
    with anyio.fail_after(20):
        async with ClientSession() as session:
            with pytest.raises(NonHttpUrlRedirectClientError):
                await session.get(_redirect(auth_app_url, 302, "ftp://127.0.0.1/x"))


async def test_too_many_redirects(auth_app_url: str) -> None:
    with anyio.fail_after(20):
        async with ClientSession() as session:
            with pytest.raises(TooManyRedirects) as info:
                await session.get(f"{auth_app_url}loop", max_redirects=3)
            assert len(info.value.history) == 3


# -- tracing ---------------------------------------------------------------------------


def _recording_config(events: list[str]) -> TraceConfig:
    config = TraceConfig()
    names = [n for n in dir(config) if n.startswith("on_")]
    for name in names:

        async def handler(session: Any, ctx: Any, params: Any, name: str = name) -> None:
            assert ctx.trace_request_ctx == {"tag": 1}
            events.append(name.removeprefix("on_"))

        getattr(config, name).append(handler)
    return config


async def test_trace_signals_fire_in_order(auth_app_url: str) -> None:
    events: list[str] = []
    with anyio.fail_after(20):
        async with ClientSession(trace_configs=[_recording_config(events)]) as session:
            url = _redirect(auth_app_url, 302, "/echo")
            async with session.post(url, data=b"x" * 10, trace_request_ctx={"tag": 1}) as r:
                await r.read()
            first = list(events)
            events.clear()
            async with session.get(f"{auth_app_url}echo", trace_request_ctx={"tag": 1}) as r:
                await r.read()
            second = list(events)
            events.clear()
            with pytest.raises(Exception):  # noqa: B017 - the exception is traced, whatever its type
                await session.get("http://127.0.0.1:1/", trace_request_ctx={"tag": 1})
            failed = list(events)

    # aiohttp's order: start, (connection), headers sent, chunks sent, redirect, ...,
    # end when the final head is in, then body chunks as they are read.
    assert first[0] == "request_start" and first.count("request_start") == 1
    assert first.count("request_redirect") == 1 and first.count("request_end") == 1
    redirect_at, end_at = first.index("request_redirect"), first.index("request_end")
    assert "request_headers_sent" in first[:redirect_at]
    assert "request_chunk_sent" in first[:redirect_at]  # the POST body, before the 302
    assert "request_headers_sent" in first[redirect_at:end_at]
    assert set(first[end_at + 1 :]) <= {"response_chunk_received"}
    assert "response_chunk_received" in first[end_at:]
    assert "connection_create_start" in first and first.index(
        "connection_create_start"
    ) < first.index("connection_create_end")
    assert "connection_create_start" not in second and "connection_reuseconn" in second
    assert failed[0] == "request_start" and failed[-1] == "request_exception"
    assert "request_end" not in failed


async def test_trace_payload_values(auth_app_url: str) -> None:
    seen: dict[str, Any] = {}
    config = TraceConfig()

    async def on_start(session: Any, ctx: Any, params: Any) -> None:
        seen["start"] = (params.method, str(params.url))

    async def on_end(session: Any, ctx: Any, params: Any) -> None:
        seen["end"] = (params.method, str(params.url), params.response.status)

    async def on_dns(session: Any, ctx: Any, params: Any) -> None:
        seen.setdefault("dns", []).append(params.host)

    config.on_request_start.append(on_start)
    config.on_request_end.append(on_end)
    config.on_dns_resolvehost_start.append(on_dns)
    with anyio.fail_after(20):
        async with ClientSession(trace_configs=[config]) as session:
            url = auth_app_url.replace("127.0.0.1", "localhost") + "echo"
            async with session.get(url) as r:
                assert json.loads(await r.text())["path"] == "/echo"
    assert seen["start"] == ("GET", url)
    assert seen["end"] == ("GET", url, 200)
    assert seen["dns"] == ["localhost"]
