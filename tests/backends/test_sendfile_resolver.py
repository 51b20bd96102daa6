"""sendfile (native and fallback) and DNS resolution with the TTL cache."""

from __future__ import annotations

import io
import os
import socket
import tempfile
from collections.abc import Iterator

import anyio
import pytest

from treadle.backends import Connection, Resolver, get_backend
from treadle.backends._asyncio import _backend as _asyncio_backend
from treadle.backends._sendfile import sendfile_fallback
from treadle.backends._trio import _backend as _trio_backend

from .conftest import Certs, Recorder, Server

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.timeout(30),
    # A socket closed by the garbage collector instead of treadle is a leak.
    pytest.mark.filterwarnings("error::ResourceWarning"),
]

SIZE = 3 * 1024 * 1024 + 17


@pytest.fixture(scope="module")
def payload() -> bytes:
    return os.urandom(SIZE)


@pytest.fixture
def data_file(payload: bytes) -> Iterator[io.BufferedRandom]:
    with tempfile.TemporaryFile() as f:
        f.write(payload)
        f.flush()
        f.seek(0)
        yield f  # type: ignore[misc]


async def _pair(ssl_server: object = None, ssl_client: object = None) -> tuple[Server, Connection]:
    backend = get_backend()
    server = Server(Recorder)
    server.listener = await backend.serve_tcp(server, "127.0.0.1", 0, ssl=ssl_server)  # type: ignore[arg-type]
    conn = await backend.connect_tcp(
        Recorder(), "127.0.0.1", server.port, ssl=ssl_client, server_hostname="localhost"
    )  # type: ignore[arg-type]
    return server, conn


async def test_sendfile_slices_and_keeps_write_order(
    payload: bytes,
    data_file: io.BufferedRandom,
    anyio_backend: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = get_backend()
    fallbacks = []

    async def spy(*args: object) -> int:
        fallbacks.append(args)
        return await sendfile_fallback(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_asyncio_backend, "sendfile_fallback", spy)
    monkeypatch.setattr(_trio_backend, "sendfile_fallback", spy)
    server, conn = await _pair()
    assert server.listener is not None
    try:
        with anyio.fail_after(20):
            conn.write(b"head")
            sent = await backend.sendfile(conn, data_file, 1000, 2_000_000)
            assert sent == 2_000_000
            assert data_file.tell() == 1000 + 2_000_000
            conn.write(b"middle")
            sent = await backend.sendfile(conn, data_file, SIZE - 5000)  # to EOF
            assert sent == 5000
            conn.write(b"tail")
            expected = (
                b"head" + payload[1000:2_001_000] + b"middle" + payload[SIZE - 5000 :] + b"tail"
            )
            handler = await server.first_handler()
            received = await handler.wait_bytes(len(expected))
        assert received == expected
        # Native os.sendfile on asyncio and trio; uvloop has no loop.sendfile.
        uses_uvloop = anyio_backend == ("asyncio", {"use_uvloop": True})
        assert len(fallbacks) == (2 if uses_uvloop else 0)
    finally:
        conn.abort()
        await server.close()


async def test_sendfile_falls_back_for_tls_and_non_files(
    certs: Certs, payload: bytes, data_file: io.BufferedRandom
) -> None:
    backend = get_backend()
    server, conn = await _pair(certs.server_context(), certs.client_context())
    assert server.listener is not None
    try:
        with anyio.fail_after(20):
            sent = await backend.sendfile(conn, data_file, 10, 1_000_000)
            assert sent == 1_000_000
            in_memory = io.BytesIO(b"0123456789" * 1000)
            assert await backend.sendfile(conn, in_memory, 5) == 9995
            handler = await server.first_handler()
            received = await handler.wait_bytes(1_000_000 + 9995)
        assert received == payload[10:1_000_010] + (b"0123456789" * 1000)[5:]
    finally:
        conn.abort()
        await server.close()


async def test_resolver_cache_hit_and_expiry_with_fake_clock() -> None:
    now = [100.0]
    calls: list[tuple[str, int, int]] = []

    async def lookup(host: str, port: int, family: int) -> list:  # type: ignore[type-arg]
        calls.append((host, port, family))
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (f"10.0.0.{len(calls)}", port))]

    resolver = Resolver(ttl=10.0, lookup=lookup, clock=lambda: now[0])
    first = await resolver.resolve("example.com", 80)
    assert await resolver.resolve("example.com", 80) == first  # hit
    assert resolver.hits == 1 and resolver.misses == 1 and len(calls) == 1
    assert (await resolver.resolve("example.com", 443))[0][4][1] == 443  # other key: miss
    now[0] += 9.9
    assert await resolver.resolve("example.com", 80) == first
    now[0] += 0.2  # past the TTL
    second = await resolver.resolve("example.com", 80)
    assert second != first and len(calls) == 3
    # IP literals never reach the lookup or the cache.
    assert (await resolver.resolve("127.0.0.1", 1))[0][4] == ("127.0.0.1", 1)
    assert (await resolver.resolve("::1", 2))[0][0] == socket.AF_INET6
    assert len(calls) == 3
    assert resolver.cache_size == 2
    resolver.clear("example.com")
    assert resolver.cache_size == 0 and resolver  # never falsy


async def test_resolver_uncached_and_failures() -> None:
    calls = 0

    async def lookup(host: str, port: int, family: int) -> list:  # type: ignore[type-arg]
        nonlocal calls
        calls += 1
        if host == "fail.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [] if host == "empty.invalid" else [(2, 1, 6, "", ("10.1.1.1", port))]

    resolver = Resolver(ttl=None, lookup=lookup)
    await resolver.resolve("a.example", 1)
    await resolver.resolve("a.example", 1)
    assert calls == 2  # ttl=None: no cache
    cached = Resolver(ttl=60, lookup=lookup)
    for _ in range(2):
        with pytest.raises(socket.gaierror):
            await cached.resolve("fail.invalid", 1)
    assert calls == 4  # failures are not cached
    with pytest.raises(OSError, match="no addresses"):
        await cached.resolve("empty.invalid", 1)


async def test_resolver_real_lookup_expires() -> None:
    backend = get_backend()
    calls = 0

    async def counting(host: str, port: int, family: int) -> list:  # type: ignore[type-arg]
        nonlocal calls
        calls += 1
        return await backend.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)

    resolver = Resolver(ttl=0.1, lookup=counting)
    with anyio.fail_after(10):
        infos = await resolver.resolve("localhost", 8080)
        assert any(info[4][0] in ("127.0.0.1", "::1") for info in infos)
        assert all(info[4][1] == 8080 for info in infos)
        await resolver.resolve("localhost", 8080)
        assert calls == 1
        await backend.sleep(0.15)
        await resolver.resolve("localhost", 8080)
        assert calls == 2
    with pytest.raises(OSError):
        await Resolver().resolve("name.that.does.not.exist.invalid", 80)
