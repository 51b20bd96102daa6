"""Connection conformance over real loopback sockets (asyncio, uvloop, trio)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import struct
from collections.abc import AsyncIterator

import anyio
import pytest

from treadle.backends import DEFAULT_HIGH_WATER, Connection, Resolver, get_backend

from .conftest import Echo, Recorder, Server, blackhole, fd_count, serving, wait_for_fds

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.timeout(30),
    # A socket closed by the garbage collector instead of treadle is a leak.
    pytest.mark.filterwarnings("error::ResourceWarning"),
]


async def test_echo_round_trips(echo_server: Server) -> None:
    backend = get_backend()
    client = Recorder()
    with anyio.fail_after(10):
        conn = await backend.connect_tcp(client, "127.0.0.1", echo_server.port)
        assert client.calls == ["made"] and client.conn is conn
        expected = b""
        for i in range(200):
            message = bytes([i % 256]) * (1 + (i * 37) % 3000)
            expected += message
            conn.write(message)
            await client.wait_bytes(len(expected))
        assert client.data == expected
        assert conn.peername == ("127.0.0.1", echo_server.port)
        assert conn.sockname[0] == "127.0.0.1"
        assert conn.ssl_object is None
        conn.writelines([b"a", b"bc", memoryview(b"def")])
        await client.wait_bytes(len(expected) + 6)
        assert client.data.endswith(b"abcdef")
        conn.close()
        await conn.wait_closed()
    assert client.calls == ["made", "lost"]
    assert client.exc is None
    assert conn.is_closing()


async def _write_all(conn: Connection, payload: bytes, chunk: int, peak: list[int]) -> None:
    for offset in range(0, len(payload), chunk):
        conn.write(payload[offset : offset + chunk])
        peak[0] = max(peak[0], conn.get_write_buffer_size())
        await conn.drain()


async def _check_bounded_transfer(writer: Connection, reader: Recorder) -> None:
    """Reader paused: the writer must stall with a bounded buffer, then finish."""
    payload = os.urandom(4 * 1024 * 1024)
    chunk = 32 * 1024
    peak = [0]
    # Small kernel buffers, so the stall does not depend on the machine's TCP tuning.
    for sock, option in ((writer.socket, socket.SO_SNDBUF), (reader.conn.socket, socket.SO_RCVBUF)):  # type: ignore[union-attr]
        sock.setsockopt(socket.SOL_SOCKET, option, 32 * 1024)  # type: ignore[union-attr]
    reader.conn.pause_reading()  # type: ignore[union-attr]
    assert not reader.conn.is_reading()  # type: ignore[union-attr]
    async with anyio.create_task_group() as tg:
        tg.start_soon(_write_all, writer, payload, chunk, peak)
        await anyio.sleep(0.3)
        stalled_at = reader.received
        assert stalled_at < len(payload) // 2, "reader is paused but received the payload"
        # Kernel buffers absorb some bytes; the writer's own buffer stays bounded.
        assert peak[0] <= DEFAULT_HIGH_WATER + chunk
        assert writer.get_write_buffer_size() > 0
        await anyio.sleep(0.05)
        assert reader.received == stalled_at, "data delivered while reading is paused"
        reader.conn.resume_reading()  # type: ignore[union-attr]
        with anyio.fail_after(20):
            await reader.wait_bytes(len(payload))
    assert peak[0] <= DEFAULT_HIGH_WATER + chunk
    assert hashlib.sha256(reader.data).digest() == hashlib.sha256(payload).digest()


@contextlib.asynccontextmanager
async def _recording_pair() -> AsyncIterator[tuple[Connection, Recorder, Recorder]]:
    """A client connection, its handler and the server's handler (both only record)."""
    async with serving(Recorder) as server:
        client = Recorder()
        conn = await get_backend().connect_tcp(client, "127.0.0.1", server.port)
        try:
            yield conn, client, await server.first_handler()
        finally:
            conn.abort()


async def test_backpressure_client_to_server() -> None:
    async with _recording_pair() as (conn, _, handler):
        await _check_bounded_transfer(conn, handler)


async def test_backpressure_server_to_client() -> None:
    async with _recording_pair() as (_, client, handler):
        assert handler.conn is not None
        await _check_bounded_transfer(handler.conn, client)


async def test_write_buffer_limits() -> None:
    async with _recording_pair() as (conn, _, handler):
        # Small kernel buffers, so nearly everything written stays in treadle's buffer.
        conn.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)  # type: ignore[union-attr]
        handler.conn.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)  # type: ignore[union-attr]
        handler.conn.pause_reading()  # type: ignore[union-attr]
        # A raised mark: 8 MiB buffered is above the default mark but below this one.
        conn.set_write_buffer_limits(high=16 * 1024 * 1024)
        conn.write(b"x" * (8 * 1024 * 1024))
        assert conn.get_write_buffer_size() > DEFAULT_HIGH_WATER
        with anyio.fail_after(1):
            await conn.drain()  # returns at once: below the raised mark
        # A lowered mark applies to what is already buffered.
        conn.set_write_buffer_limits(high=1024)
        with pytest.raises(TimeoutError):
            with anyio.fail_after(0.2):
                await conn.drain()
        assert conn.get_write_buffer_size() > 1024
        # Once the peer reads, drain() returns at the low-water mark (high // 4).
        handler.conn.resume_reading()  # type: ignore[union-attr]
        with anyio.fail_after(20):
            await conn.drain()
        assert conn.get_write_buffer_size() <= 256


class _ReplyOnEof(Recorder):
    def eof_received(self) -> None:
        super().eof_received()
        assert self.conn is not None
        self.conn.write(b"got:" + self.data)
        self.conn.close()


async def test_half_close() -> None:
    backend = get_backend()
    async with serving(_ReplyOnEof) as server:
        client = Recorder()
        with anyio.fail_after(10):
            conn = await backend.connect_tcp(client, "127.0.0.1", server.port)
            assert conn.can_write_eof()
            conn.write(b"ping")
            conn.write_eof()
            with pytest.raises(RuntimeError):
                conn.write(b"more")
            # The server still writes after our EOF: the connection is half-open.
            await client.eof.wait()
            assert client.data == b"got:ping"
            assert client.calls == ["made", "eof"]
            conn.close()
            await conn.wait_closed()
        assert client.exc is None


async def test_peer_reset_is_a_clear_error() -> None:
    backend = get_backend()

    class Resetter(Recorder):
        def connection_made(self, conn: Connection) -> None:
            super().connection_made(conn)
            sock = conn.socket
            assert sock is not None
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # type: ignore[attr-defined]

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self.conn.abort()  # type: ignore[union-attr]

    async with serving(Resetter) as server:
        client = Recorder()
        with anyio.fail_after(10):
            conn = await backend.connect_tcp(client, "127.0.0.1", server.port)
            conn.write(b"trigger")
            await client.lost.wait()
        assert isinstance(client.exc, ConnectionResetError), repr(client.exc)
        with pytest.raises(ConnectionResetError):
            await conn.drain()
        conn.write(b"ignored after loss")  # discarded, no exception


async def test_connect_refused_leaves_no_fd() -> None:
    backend = get_backend()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    before = fd_count()
    for _ in range(5):
        with pytest.raises(ConnectionRefusedError):
            await backend.connect_tcp(Recorder(), "127.0.0.1", port)
    assert await wait_for_fds(backend, before) == before


async def test_connect_timeout() -> None:
    backend = get_backend()
    listener, fillers = blackhole()
    try:
        port = listener.getsockname()[1]
        await anyio.sleep(0.05)
        before = fd_count()
        start = backend.current_time()
        with pytest.raises(TimeoutError), backend.fail_after(0.2):
            await backend.connect_tcp(Recorder(), "127.0.0.1", port)
        assert 0.15 <= backend.current_time() - start < 2
        assert await wait_for_fds(backend, before) == before
    finally:
        for sock in [listener, *fillers]:
            sock.close()


async def test_happy_eyeballs_falls_back_across_addresses(echo_server: Server) -> None:
    backend = get_backend()
    listener, fillers = blackhole()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    refused_port = probe.getsockname()[1]
    probe.close()
    good = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", echo_server.port))
    refused = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", refused_port))
    hang = (socket.AF_INET, socket.SOCK_STREAM, 6, "", listener.getsockname())
    try:
        await anyio.sleep(0.05)
        before = fd_count()
        # A refused attempt starts the next one at once, long before its delay is up;
        # a hanging one is overtaken once the (short) delay has passed.
        for infos, delay in (([refused, good], 5.0), ([hang, good], 0.05)):

            async def lookup(host: str, port: int, family: int, infos=infos) -> list:  # type: ignore[no-untyped-def]
                return list(infos)

            client = Recorder()
            start = backend.current_time()
            with anyio.fail_after(5):
                conn = await backend.connect_tcp(
                    client,
                    "example.invalid",
                    80,
                    happy_eyeballs_delay=delay,
                    resolver=Resolver(lookup=lookup),
                )
            assert backend.current_time() - start < 1.0
            assert conn.peername == ("127.0.0.1", echo_server.port)
            conn.write(b"hi")
            assert await client.wait_bytes(2) == b"hi"
            conn.abort()
            await conn.wait_closed()
        # The losing attempt (stuck on the blackhole) was cancelled and its socket closed.
        assert await wait_for_fds(backend, before) == before

        async def refuse_all(host: str, port: int, family: int) -> list:  # type: ignore[type-arg]
            return [refused, refused]

        with pytest.raises(ConnectionRefusedError):
            await backend.connect_tcp(
                Recorder(), "x.invalid", 1, resolver=Resolver(lookup=refuse_all)
            )
    finally:
        for sock in [listener, *fillers]:
            sock.close()


async def test_connect_by_name_and_local_addr(echo_server: Server) -> None:
    backend = get_backend()
    client = Recorder()
    with anyio.fail_after(10):
        conn = await backend.connect_tcp(
            client,
            "localhost",
            echo_server.port,
            family=socket.AF_INET,
            local_addr=("127.0.0.1", 0),
        )
        conn.write(b"named")
        assert await client.wait_bytes(5) == b"named"
    assert conn.sockname[0] == "127.0.0.1"
    conn.close()
    await conn.wait_closed()


async def test_unix_socket(unix_path: str) -> None:
    backend = get_backend()
    server = Server(Echo)
    listener = await backend.serve_unix(server, unix_path)
    server.listener = listener
    assert listener.addresses == [unix_path]
    assert os.path.exists(unix_path)
    client = Recorder()
    with anyio.fail_after(10):
        conn = await backend.connect_unix(client, unix_path)
        conn.write(b"over unix")
        assert await client.wait_bytes(9) == b"over unix"
        conn.write_eof()  # echo server closes on EOF
        await client.eof.wait()
        conn.close()  # the handler decides when a half-closed connection ends
        await client.lost.wait()
    assert client.calls == ["made", "eof", "lost"]
    await server.close()
    assert not os.path.exists(unix_path)
    with pytest.raises(OSError):
        await backend.connect_unix(Recorder(), unix_path)


async def test_listen_on_port_zero_all_interfaces() -> None:
    backend = get_backend()
    server = Server(Echo)
    listener = server.listener = await backend.serve_tcp(server, None, 0)
    async with server:
        ports = {address[1] for address in listener.addresses}
        assert len(ports) == 1 and 0 not in ports, listener.addresses
        client = Recorder()
        conn = await backend.connect_tcp(client, "127.0.0.1", ports.pop())
        conn.write(b"zero")
        with anyio.fail_after(10):
            assert await client.wait_bytes(4) == b"zero"
        conn.abort()


async def test_reuse_port() -> None:
    backend = get_backend()
    first = await backend.serve_tcp(Server(Echo), "127.0.0.1", 0, reuse_port=True)
    try:
        port = first.addresses[0][1]
        second_server = Server(Echo)
        second = await backend.serve_tcp(second_server, "127.0.0.1", port, reuse_port=True)
        await second.aclose()
        with pytest.raises(OSError):
            await backend.serve_tcp(Server(Echo), "127.0.0.1", port)
    finally:
        await first.aclose()


async def test_serve_existing_socket() -> None:
    backend = get_backend()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = Server(Echo)
    async with await backend.serve_socket(server, sock, backlog=10) as listener:
        before = fd_count()  # after start: uvloop lazily opens a spare fd on first listen
        assert listener.addresses == [sock.getsockname()]
        client = Recorder()
        conn = await backend.connect_tcp(client, "127.0.0.1", sock.getsockname()[1])
        conn.write(b"adopted")
        with anyio.fail_after(10):
            assert await client.wait_bytes(7) == b"adopted"
        conn.close()
        await conn.wait_closed()
    for handler in server.handlers:
        await handler.lost.wait()
    assert await wait_for_fds(backend, before - 1) == before - 1  # listener closed too


@pytest.mark.parametrize("callback", ["data_received", "eof_received"])
async def test_handler_error_aborts_connection(
    callback: str, caplog: pytest.LogCaptureFixture
) -> None:
    backend = get_backend()

    class Broken(Recorder):
        def data_received(self, data: bytes) -> None:
            if callback == "data_received":
                raise ValueError("handler bug")
            super().data_received(data)

        def eof_received(self) -> None:
            raise ValueError("handler bug")

    async with serving(Broken) as server:
        client = Recorder()
        with anyio.fail_after(10):
            conn = await backend.connect_tcp(client, "127.0.0.1", server.port)
            conn.write(b"boom")
            if callback == "eof_received":
                conn.write_eof()
            handler = await server.first_handler()
            await handler.lost.wait()
            await client.eof.wait()  # the server side was closed
        assert isinstance(handler.exc, ValueError)
        assert handler.calls == ["made", "lost"]
        assert any(
            record.name == "treadle.backends"
            and record.exc_info
            and record.exc_info[1] is handler.exc
            for record in caplog.records
        ), "the handler's error was not logged"
        conn.abort()


async def test_set_handler_switches_protocol(echo_server: Server) -> None:
    backend = get_backend()
    first, second = Recorder(), Recorder()
    with anyio.fail_after(10):
        conn = await backend.connect_tcp(first, "127.0.0.1", echo_server.port)
        conn.write(b"one")
        await first.wait_bytes(3)
        conn.set_handler(second)
        assert conn.handler is second
        conn.write(b"two")
        assert await second.wait_bytes(3) == b"two"
        conn.close()
        await second.lost.wait()
    assert first.data == b"one"
    assert "lost" not in first.calls
