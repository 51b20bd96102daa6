"""The connector through a real forward proxy (proxy.py): CONNECT tunnels and plain HTTP."""

from __future__ import annotations

import base64
import socket
import ssl

import anyio
import pytest
import trustme

from treadle.backends import Fingerprint
from treadle.client._connector import TCPConnector
from treadle.client._exceptions import (
    ClientHttpProxyError,
    ClientProxyConnectionError,
    ServerFingerprintMismatch,
)
from treadle.client._interfaces import ConnectionKey
from treadle.client._proxy import connect_request
from treadle.protocol import Request

from ._peer_server import peer_server
from .proxy_fixture import PROXY_PASSWORD, PROXY_USER, ProxyServer


class Auth:
    """What the connector needs of aiohttp's BasicAuth: ``encode()``."""

    def __init__(self, login: str, password: str) -> None:
        self.token = base64.b64encode(f"{login}:{password}".encode()).decode()

    def encode(self) -> str:
        return f"Basic {self.token}"


@pytest.fixture(scope="module")
def tls_pair() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


async def get(
    connector: TCPConnector, key: ConnectionKey, target: bytes, **kw: object
) -> tuple[int, bytes, bool]:
    exchange = await connector.connect(key, **kw)  # type: ignore[arg-type]
    try:
        exchange.send_head(Request(b"GET", target, [(b"Host", f"{key.host}:{key.port}".encode())]))
        await exchange.end_body()
        head = await exchange.read_head()
        body = await exchange.content.read()
    except BaseException:
        exchange.close()
        raise
    exchange.release()
    return head.status_code, body, exchange.reused


async def test_https_through_a_connect_tunnel(
    http_proxy: ProxyServer, tls_pair: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server_ctx, client_ctx = tls_pair
    with anyio.fail_after(30):
        async with peer_server(ssl=server_ctx) as server, TCPConnector(ssl=client_ctx) as connector:
            key = ConnectionKey("127.0.0.1", server.port, True, proxy=http_proxy.url)
            results = [await get(connector, key, f"/{i}".encode()) for i in range(3)]
            assert results == [
                (200, b"GET /0 ", False),
                (200, b"GET /1 ", True),
                (200, b"GET /2 ", True),
            ]
            assert server.accepted == 1  # one tunnel, reused


async def test_plain_http_through_the_proxy(http_proxy: ProxyServer) -> None:
    with anyio.fail_after(30):
        async with peer_server() as server, TCPConnector() as connector:
            key = ConnectionKey("127.0.0.1", server.port, False, proxy=http_proxy.url)
            target = f"http://127.0.0.1:{server.port}/plain".encode()
            status, body, _ = await get(connector, key, target)
            assert status == 200
            assert body.startswith(b"GET ") and b"/plain" in body


async def test_proxy_authentication(
    http_proxy_auth: ProxyServer, tls_pair: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server_ctx, client_ctx = tls_pair
    with anyio.fail_after(30):
        async with peer_server(ssl=server_ctx) as server, TCPConnector(ssl=client_ctx) as connector:
            key = ConnectionKey("127.0.0.1", server.port, True, proxy=http_proxy_auth.url)
            with pytest.raises(ClientHttpProxyError) as info:
                await connector.connect(key)
            assert info.value.status == 407
            assert info.value.request_info.method == "CONNECT"
            assert connector._pool.in_use == 0
            status, _, _ = await get(
                connector, key, b"/", proxy_auth=Auth(PROXY_USER, PROXY_PASSWORD)
            )
            assert status == 200


async def test_pinning_through_the_tunnel(
    http_proxy: ProxyServer, tls_pair: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server_ctx, _ = tls_pair
    with anyio.fail_after(30):
        async with peer_server(ssl=server_ctx) as server, TCPConnector() as connector:
            key = ConnectionKey(
                "127.0.0.1", server.port, True, Fingerprint(b"\x00" * 32), proxy=http_proxy.url
            )
            with pytest.raises(ServerFingerprintMismatch):
                await connector.connect(key)
            assert connector._pool.in_use == 0


async def test_unreachable_proxy() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with anyio.fail_after(10):
        async with TCPConnector() as connector:
            key = ConnectionKey("example.com", 443, True, proxy=f"http://127.0.0.1:{port}")
            with pytest.raises(ClientProxyConnectionError) as info:
                await connector.connect(key)
            assert f"127.0.0.1:{port}" in str(info.value)


def test_connect_request_head() -> None:
    head = connect_request(
        ConnectionKey("::1", 8443, True),
        {"X-Trace": "1", "Host": "ignored"},
        Auth("u", "p"),
    )
    assert head.method == b"CONNECT" and head.target == b"[::1]:8443"
    assert head.headers[0] == (b"Host", b"[::1]:8443")
    assert (b"X-Trace", b"1") in head.headers
    assert (b"Proxy-Authorization", b"Basic dTpw") in head.headers
    explicit = connect_request(
        ConnectionKey("h", 443, True), [("Proxy-Authorization", "Bearer t")], Auth("u", "p")
    )
    assert [v for n, v in explicit.headers if n == b"Proxy-Authorization"] == [b"Bearer t"]
