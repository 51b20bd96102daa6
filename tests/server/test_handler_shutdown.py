"""Graceful shutdown, protocol switches and sendfile over the runtime (all backends)."""

from __future__ import annotations

import tempfile
from typing import Any

import anyio
import httpx

from treadle.backends import Connection, get_backend
from treadle.server import Response, StreamResponse

from ._serving import raw_connection, read_response, read_until_close, serve


async def test_shutdown_lets_in_flight_requests_finish_and_closes_idle_ones() -> None:
    backend = get_backend()
    started = backend.create_event()

    async def handler(request: Any) -> Response:
        if request.path == "/slow":
            started.set()
            await backend.sleep(0.3)
        return Response(text=request.path)

    async with serve(handler) as (url, server):
        async with raw_connection(url) as idle, raw_connection(url) as busy:
            await idle.send(b"GET /quick HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await read_response(idle, bytearray())).endswith(b"/quick")
            await busy.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            with anyio.fail_after(5):
                await started.wait()
            start = backend.current_time()
            async with anyio.create_task_group() as tg:
                tg.start_soon(server.shutdown, 5.0)
                # The idle keep-alive connection is closed at once...
                assert await read_until_close(idle, limit=2) == b""
                assert backend.current_time() - start < 0.3
                # ...the busy one gets its answer, told that the connection closes.
                slow = await read_until_close(busy)
            assert slow.startswith(b"HTTP/1.1 200 OK\r\n")
            assert b"\r\nConnection: close\r\n" in slow
            assert slow.endswith(b"/slow")
        assert server.connections == []


async def test_shutdown_cancels_handlers_at_the_deadline() -> None:
    backend = get_backend()
    started = backend.create_event()
    outcome: list[str] = []

    async def stuck(request: Any) -> Response:
        started.set()
        try:
            await backend.sleep(3600)
        except BaseException:
            outcome.append("cancelled")
            raise
        return Response(text="never")

    async with serve(stuck) as (url, server), raw_connection(url) as stream:
        await stream.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with anyio.fail_after(5):
            await started.wait()
        start = backend.current_time()
        with anyio.fail_after(5):
            await server.shutdown(0.2)
        elapsed = backend.current_time() - start
        data = await read_until_close(stream)
    assert outcome == ["cancelled"]
    assert 0.15 < elapsed < 2.0
    assert not data.startswith(b"HTTP/1.1 200")


async def test_pre_shutdown_stops_keep_alive_on_busy_connections() -> None:
    backend = get_backend()
    started = backend.create_event()
    release = backend.create_event()

    async def handler(request: Any) -> Response:
        started.set()
        await release.wait()
        return Response(text="done")

    async with serve(handler) as (url, server), raw_connection(url) as stream:
        await stream.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with anyio.fail_after(5):
            await started.wait()
        server.pre_shutdown()
        release.set()
        data = await read_until_close(stream)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nConnection: close\r\n" in data


class _Echo:
    """A ConnectionHandler that echoes upper-cased bytes (the "new protocol")."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def connection_made(self, conn: Connection) -> None:  # pragma: no cover - never called
        pass

    def data_received(self, data: bytes) -> None:
        self.conn.write(data.upper())

    def eof_received(self) -> None:
        self.conn.close()

    def connection_lost(self, exc: BaseException | None) -> None:
        pass


async def test_switching_protocols_hands_the_connection_over() -> None:
    async def upgrade(request: Any) -> Any:
        upgraded = request.writer.switch_protocols(
            [(b"Upgrade", b"echo"), (b"Connection", b"upgrade")]
        )
        echo = _Echo(upgraded.connection)
        upgraded.connection.set_handler(echo)
        if upgraded.trailing_data:
            echo.data_received(upgraded.trailing_data)
        return None

    async with serve(upgrade) as (url, server), raw_connection(url) as stream:
        await stream.send(
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nearly "
        )
        received = bytearray()
        with anyio.fail_after(5):
            while b"EARLY " not in received:
                received += await stream.receive()
            await stream.send(b"later")
            while b"LATER" not in received:
                received += await stream.receive()
    head, _, rest = bytes(received).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert rest == b"EARLY LATER"
    assert server.requests_count == 1


async def test_declined_upgrade_goes_on_with_http() -> None:
    async def plain(request: Any) -> Response:
        return Response(text="no upgrade")

    async with serve(plain) as (url, _), raw_connection(url) as stream:
        await stream.send(
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n"
            b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        buffer = bytearray()
        first = await read_response(stream, buffer)
        second = await read_response(stream, buffer)
    assert first.endswith(b"no upgrade")
    assert second.startswith(b"HTTP/1.1 200 OK")


async def test_sendfile_with_content_length_and_chunked() -> None:
    content = bytes(range(256)) * 1000

    async def send(request: Any) -> StreamResponse:
        response = StreamResponse()
        if request.path == "/length":
            response.content_length = 1000
        await response.prepare(request)
        with tempfile.TemporaryFile() as file:
            file.write(content)
            file.flush()
            await request.writer.sendfile(file, 500, 1000)
        await response.write_eof()
        return response

    async with serve(send) as (url, _), httpx.AsyncClient() as client:
        with anyio.fail_after(10):
            with_length = await client.get(url + "/length")
            chunked = await client.get(url + "/chunked")
    assert with_length.content == content[500:1500]
    assert with_length.headers["content-length"] == "1000"
    assert chunked.content == content[500:1500]
    assert chunked.headers["transfer-encoding"] == "chunked"
