"""Constructor arguments and request keywords of PARITY.md's Client section that no other
test exercises through the session, on every backend: ``server_hostname``,
``requote_redirect_url``, ``max_line_size``/``max_field_size``/``max_headers`` (session
and per request), ``read_bufsize``, ``read_until_eof``, ``skip_auto_headers``,
``compress=True``, and the connector's ``use_dns_cache``, ``ttl_dns_cache``,
``local_addr``, ``family``, ``happy_eyeballs_delay``, ``keepalive_timeout`` and
defaults."""

from __future__ import annotations

import socket
import ssl
import zlib
from typing import Any

import anyio
import pytest
import trustme
from yarl import URL

import treadle as aiohttp
from treadle.protocol import Request

from ._peer_server import Answer, PeerHandler, peer_server

# -- TLS name -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_ctx(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("service.internal").configure_cert(ctx)  # not valid for 127.0.0.1
    return ctx


async def test_server_hostname_is_the_name_checked(
    ca: trustme.CA, server_ctx: ssl.SSLContext
) -> None:
    trusted = ssl.create_default_context()
    ca.configure_trust(trusted)
    with anyio.fail_after(20):
        async with (
            peer_server(ssl=server_ctx) as server,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusted)) as session,
        ):
            url = f"https://127.0.0.1:{server.port}/named"
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await session.get(url)  # the certificate does not name 127.0.0.1
            async with session.get(url, server_hostname="service.internal") as resp:
                assert await resp.read() == b"GET /named "
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await session.get(url, server_hostname="other.internal")


# -- response limits ----------------------------------------------------------------------


def head_with(extra: bytes) -> Any:
    async def respond(request: Request, body: bytes, handler: PeerHandler) -> None:
        assert handler.conn is not None
        handler.conn.write(b"HTTP/1.1 200 OK\r\n" + extra + b"Content-Length: 2\r\n\r\nok")

    return respond


@pytest.mark.parametrize(
    ("extra", "session_kw", "allowed_kw"),
    [
        (b"X-F: " + b"v" * 9000 + b"\r\n", {}, {"max_field_size": 10_000}),
        (b"X-F: " + b"v" * 600 + b"\r\n", {"max_field_size": 500}, {"max_field_size": 1000}),
        (b"X-H: v\r\n" * 150, {}, {"max_headers": 200}),
        (b"X-H: v\r\n" * 20, {"max_headers": 10}, {"max_headers": 50}),
    ],
    ids=["field-default", "field-session", "headers-default", "headers-session"],
)
async def test_head_limits_apply_and_can_be_raised(
    extra: bytes, session_kw: dict[str, int], allowed_kw: dict[str, int]
) -> None:
    with anyio.fail_after(10):
        async with (
            peer_server(head_with(extra)) as server,
            aiohttp.ClientSession(**session_kw) as session,
        ):
            url = f"http://127.0.0.1:{server.port}/"
            with pytest.raises(aiohttp.ClientResponseError) as info:
                await session.get(url)
            assert info.value.status == 400  # as aiohttp, whatever the limit
            async with session.get(url, **allowed_kw) as resp:
                assert await resp.read() == b"ok"


async def test_status_line_limit() -> None:
    async def long_reason(request: Request, body: bytes, handler: PeerHandler) -> None:
        assert handler.conn is not None
        handler.conn.write(b"HTTP/1.1 200 " + b"O" * 300 + b"\r\nContent-Length: 0\r\n\r\n")

    with anyio.fail_after(10):
        async with (
            peer_server(long_reason) as server,
            aiohttp.ClientSession(max_line_size=100) as session,
        ):
            url = f"http://127.0.0.1:{server.port}/"
            with pytest.raises(aiohttp.ClientResponseError):
                await session.get(url)
            async with session.get(url, max_line_size=1000) as resp:
                assert resp.reason == "O" * 300


# -- redirect URL quoting -----------------------------------------------------------------


async def test_requote_redirect_url() -> None:
    targets: list[bytes] = []

    async def respond(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        targets.append(request.target)
        if request.target == b"/start":
            return 302, [(b"Location", b"/a%7Eb/%c3%a9"), (b"Content-Length", b"0")], b""
        return 200, [(b"Content-Length", b"0")], b""

    with anyio.fail_after(10):
        async with peer_server(respond) as server:
            url = f"http://127.0.0.1:{server.port}/start"
            async with aiohttp.ClientSession() as session, session.get(url) as resp:
                assert resp.status == 200
            async with (
                aiohttp.ClientSession(requote_redirect_url=False) as session,
                session.get(url) as resp,
            ):
                assert resp.status == 200
                assert session.requote_redirect_url is False
    # requoted: %7E is an unreserved character and is decoded, %c3%a9 upper-cased
    assert targets[1] == b"/a~b/%C3%A9"
    assert targets[3] == b"/a%7Eb/%c3%a9"  # sent as the server wrote it


# -- body reading options ----------------------------------------------------------------


async def test_read_bufsize_and_read_until_eof_are_accepted() -> None:
    big = b"x" * 300_000

    async def respond(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        return 200, [(b"Content-Length", str(len(big)).encode())], big

    with anyio.fail_after(10):
        async with (
            peer_server(respond) as server,
            aiohttp.ClientSession(read_bufsize=2**10) as session,
        ):
            url = f"http://127.0.0.1:{server.port}/"
            async with session.get(url) as resp:
                assert await resp.read() == big
            async with session.get(url, read_bufsize=2**20, read_until_eof=False) as resp:
                total = 0
                async for piece in resp.content.iter_any():
                    total += len(piece)
                assert total == len(big)


# -- what goes out ------------------------------------------------------------------------


async def test_skip_auto_headers_and_compress_true() -> None:
    seen: list[tuple[list[tuple[bytes, bytes]], bytes]] = []

    async def record(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        seen.append((request.headers, body))
        return 200, [(b"Content-Length", b"0")], b""

    with anyio.fail_after(10):
        async with peer_server(record) as server:
            url = f"http://127.0.0.1:{server.port}/"
            async with aiohttp.ClientSession(skip_auto_headers=["User-Agent"]) as session:
                async with session.get(url, skip_auto_headers=["Accept-Encoding"]) as resp:
                    assert resp.status == 200
                async with session.post(url, data=b"a" * 1000, compress=True) as resp:
                    assert resp.status == 200
    names = [name.lower() for name, _ in seen[0][0]]
    assert b"user-agent" not in names and b"accept-encoding" not in names
    assert b"host" in names and b"accept" in names
    headers, body = seen[1]
    assert (b"Content-Encoding", b"deflate") in headers  # compress=True is deflate
    assert zlib.decompress(body) == b"a" * 1000


# -- the connector ------------------------------------------------------------------------


class CountingResolver:
    def __init__(self) -> None:
        self.calls = 0

    async def resolve(self, host: str, port: int, family: int = 0) -> list[dict[str, Any]]:
        self.calls += 1
        return [{"hostname": host, "host": "127.0.0.1", "port": port, "family": socket.AF_INET}]

    async def close(self) -> None:
        pass


async def test_connector_defaults_like_aiohttp() -> None:
    connector = aiohttp.TCPConnector()
    try:
        assert connector.limit == 100
        assert connector.limit_per_host == 0
        assert connector.force_close is False
        assert connector.use_dns_cache is True
        assert connector.family == 0
    finally:
        await connector.close()


@pytest.mark.parametrize("use_dns_cache", [True, False])
async def test_use_dns_cache(use_dns_cache: bool) -> None:
    resolver = CountingResolver()
    connector = aiohttp.TCPConnector(
        resolver=resolver, use_dns_cache=use_dns_cache, force_close=True
    )
    with anyio.fail_after(10):
        async with peer_server() as server, aiohttp.ClientSession(connector=connector) as s:
            for _ in range(3):
                async with s.get(f"http://svc.test:{server.port}/") as resp:
                    assert resp.status == 200
    assert resolver.calls == (1 if use_dns_cache else 3)


async def test_ttl_dns_cache_expires_entries() -> None:
    resolver = CountingResolver()
    connector = aiohttp.TCPConnector(resolver=resolver, ttl_dns_cache=0.1, force_close=True)
    with anyio.fail_after(10):
        async with peer_server() as server, aiohttp.ClientSession(connector=connector) as s:
            url = f"http://svc.test:{server.port}/"
            for _ in range(2):
                async with s.get(url) as resp:
                    assert resp.status == 200
            assert resolver.calls == 1
            await anyio.sleep(0.2)
            async with s.get(url) as resp:
                assert resp.status == 200
    assert resolver.calls == 2


async def test_local_addr_family_and_happy_eyeballs_delay() -> None:
    peers: list[Any] = []

    async def record(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        assert handler.conn is not None
        peers.append(handler.conn.peername)
        return 200, [(b"Content-Length", b"0")], b""

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        local_port = probe.getsockname()[1]
    connector = aiohttp.TCPConnector(
        local_addr=("127.0.0.1", local_port),
        family=socket.AF_INET,
        happy_eyeballs_delay=0.1,
    )
    with anyio.fail_after(10):
        async with (
            peer_server(record) as server,
            aiohttp.ClientSession(connector=connector) as s,
            s.get(f"http://localhost:{server.port}/") as resp,
        ):
            assert resp.status == 200
    assert peers[0][:2] == ("127.0.0.1", local_port)


async def test_keepalive_timeout_closes_idle_connections() -> None:
    with anyio.fail_after(10):
        async with (
            peer_server() as server,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(keepalive_timeout=0.1)) as session,
        ):
            url = f"http://127.0.0.1:{server.port}/"
            async with session.get(url) as resp:
                await resp.read()
            assert server.open == 1
            for _ in range(100):
                if server.open == 0:
                    break
                await anyio.sleep(0.02)
            assert server.open == 0
            async with session.get(url) as resp:  # a new connection, transparently
                await resp.read()
            assert server.accepted == 2


async def test_base_url_joins_like_aiohttp() -> None:
    with anyio.fail_after(10):
        async with peer_server() as server:
            base = URL(f"http://127.0.0.1:{server.port}/api/v1/")
            async with aiohttp.ClientSession(base) as session:
                for rel, target in [
                    ("items", b"/api/v1/items"),
                    ("items?x=1", b"/api/v1/items?x=1"),
                    ("/root", b"/root"),
                    (f"http://127.0.0.1:{server.port}/abs", b"/abs"),
                ]:
                    async with session.get(rel) as resp:
                        assert (await resp.read()).split(b" ")[1] == target
            with pytest.raises(ValueError, match="slash"):
                aiohttp.ClientSession(f"http://127.0.0.1:{server.port}/api")


async def test_json_serialize_bytes_wins_and_connector_compat_arguments() -> None:
    seen: list[tuple[list[tuple[bytes, bytes]], bytes]] = []

    async def record(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        seen.append((request.headers, body))
        return 200, [(b"Content-Length", b"0")], b""

    def dumps_bytes(value: Any) -> bytes:
        return b"BYTES:" + repr(value).encode()

    connector = aiohttp.TCPConnector(ssl_shutdown_timeout=0.1)  # aiohttp 3.12 accepts it
    with anyio.fail_after(10):
        async with (
            peer_server(record) as server,
            aiohttp.ClientSession(
                connector=connector,
                json_serialize=lambda v: "STR",
                json_serialize_bytes=dumps_bytes,
            ) as session,
            session.post(f"http://127.0.0.1:{server.port}/", json={"a": 1}) as r,
        ):
            assert r.status == 200
    headers, body = seen[0]
    assert body == b"BYTES:{'a': 1}"
    assert (b"Content-Type", b"application/json") in headers
