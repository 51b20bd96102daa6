"""The proxy fixture itself: a real proxy.py that tunnels CONNECT, forwards absolute-form
requests and enforces Basic proxy auth, checked with raw bytes over loopback."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import anyio
import pytest
from anyio.abc import SocketStream

from .proxy_fixture import ProxyServer

pytestmark = pytest.mark.timeout(60)


async def _read_head(stream: SocketStream) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive(65536)
        data += chunk
        assert len(data) < 65536
    return data


async def _echo(stream: SocketStream) -> None:
    async with stream:
        try:
            while True:
                await stream.send(await stream.receive())
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            pass


async def _http_ok(stream: SocketStream) -> None:
    async with stream:
        head = await _read_head(stream)
        target = head.split(b" ", 2)[1]
        body = b"seen " + target
        await stream.send(
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (len(body), body)
        )


async def _serve(handler: object) -> AsyncIterator[int]:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handler)
        yield port
        tg.cancel_scope.cancel()


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    async for port in _serve(_echo):
        yield port


@pytest.fixture
async def http_port() -> AsyncIterator[int]:
    async for port in _serve(_http_ok):
        yield port


async def _connect(
    proxy: ProxyServer, target_port: int, auth: str | None = None
) -> tuple[SocketStream, bytes]:
    stream = await anyio.connect_tcp(proxy.host, proxy.port)
    request = f"CONNECT 127.0.0.1:{target_port} HTTP/1.1\r\nHost: 127.0.0.1:{target_port}\r\n"
    if auth is not None:
        request += f"Proxy-Authorization: {auth}\r\n"
    await stream.send((request + "\r\n").encode())
    return stream, await _read_head(stream)


def _basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


async def test_connect_tunnel_to_local_echo(http_proxy: ProxyServer, echo_port: int) -> None:
    with anyio.fail_after(20):
        stream, head = await _connect(http_proxy, echo_port)
        async with stream:
            assert head.startswith(b"HTTP/1.1 200"), head
            for payload in (b"hello", b"x" * 10000):
                await stream.send(payload)
                got = b""
                while len(got) < len(payload):
                    got += await stream.receive()
                assert got == payload


async def test_absolute_form_request_is_forwarded(http_proxy: ProxyServer, http_port: int) -> None:
    with anyio.fail_after(20):
        async with await anyio.connect_tcp(http_proxy.host, http_proxy.port) as stream:
            url = f"http://127.0.0.1:{http_port}/path?q=1"
            await stream.send(
                f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1:{http_port}\r\nConnection: close\r\n\r\n".encode()
            )
            response = b""
            with pytest.raises(anyio.EndOfStream):
                while True:
                    response += await stream.receive()
        assert response.startswith(b"HTTP/1.1 200")
        assert response.endswith(b"seen /path?q=1")  # the proxy sent origin-form on


async def test_auth_proxy_demands_credentials(http_proxy_auth: ProxyServer, echo_port: int) -> None:
    with anyio.fail_after(20):
        for auth in (None, _basic("user", "wrong")):
            stream, head = await _connect(http_proxy_auth, echo_port, auth)
            await stream.aclose()
            assert head.startswith(b"HTTP/1.1 407"), head
            assert b"proxy-authenticate" in head.lower()
        stream, head = await _connect(http_proxy_auth, echo_port, _basic("user", "pass"))
        async with stream:
            assert head.startswith(b"HTTP/1.1 200"), head
            await stream.send(b"ping")
            assert await stream.receive() == b"ping"


def test_urls(http_proxy: ProxyServer, http_proxy_auth: ProxyServer) -> None:
    assert http_proxy.url == str(http_proxy) == f"http://127.0.0.1:{http_proxy.port}"
    assert http_proxy.url_with_auth == http_proxy.url
    assert http_proxy_auth.url_with_auth == f"http://user:pass@127.0.0.1:{http_proxy_auth.port}"
    assert http_proxy.port != http_proxy_auth.port
