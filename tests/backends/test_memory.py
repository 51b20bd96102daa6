"""The in-memory transport behaves like a socket at the handler level (all backends)."""

from __future__ import annotations

import os

import anyio
import pytest
from hypothesis import HealthCheck, given, settings

from treadle import strategies
from treadle.backends import (
    DEFAULT_HIGH_WATER,
    Connection,
    MemoryListener,
    get_backend,
    memory_connection_pair,
)
from treadle.protocol import (
    ClientConnection,
    Data,
    EndOfMessage,
    Request,
    Response,
    ServerConnection,
)

from .conftest import Echo, Recorder, task_count, wait_for_tasks

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


class Writer(Recorder):
    """Writes in connection_made: the bytes must reach the peer after its connection_made."""

    def connection_made(self, conn: Connection) -> None:
        super().connection_made(conn)
        conn.write(b"hello")


async def test_echo_round_trips_and_close() -> None:
    client, echo = Recorder(), Echo()
    with anyio.fail_after(10):
        conn, server_conn = memory_connection_pair(client, echo)
        assert client.calls == ["made"] and echo.calls == ["made"]
        assert client.conn is conn and echo.conn is server_conn
        assert conn.peername == server_conn.sockname
        assert conn.sockname == server_conn.peername
        assert conn.ssl_object is None and conn.socket is None
        expected = b""
        for i in range(200):
            message = bytes([i % 256]) * (1 + (i * 37) % 3000)
            expected += message
            conn.write(message)
            assert client.received < len(expected), "delivered inside write()"
            await client.wait_bytes(len(expected))
        assert client.data == expected
        conn.writelines([b"a", b"bc", memoryview(b"def")])
        await client.wait_bytes(len(expected) + 6)
        assert client.data.endswith(b"abcdef")
        conn.close()
        assert conn.is_closing() and not conn.is_reading()
        await conn.wait_closed()
        await echo.lost.wait()
    assert client.calls == ["made", "lost"] and client.exc is None
    # The server saw the client's FIN, then closed itself (Echo closes on EOF).
    assert echo.calls == ["made", "eof", "lost"] and echo.exc is None
    assert echo.data == expected + b"abcdef"


async def test_writes_in_connection_made_arrive_after_it() -> None:
    client, server = Writer(), Writer()
    with anyio.fail_after(10):
        conn, _ = memory_connection_pair(client, server)
        assert client.received == 0 and server.received == 0
        assert await client.wait_bytes(5) == b"hello"
        assert await server.wait_bytes(5) == b"hello"
        conn.abort()
        await server.lost.wait()
        await conn.wait_closed()


async def test_half_close_keeps_the_other_direction_open() -> None:
    client, server = Recorder(), Recorder()
    with anyio.fail_after(10):
        conn, server_conn = memory_connection_pair(client, server)
        assert conn.can_write_eof()
        conn.write(b"request")
        conn.write_eof()
        with pytest.raises(RuntimeError):
            conn.write(b"more")
        await server.eof.wait()
        assert server.data == b"request"
        # After the client's EOF the server can still answer.
        server_conn.write(b"response")
        assert await client.wait_bytes(8) == b"response"
        server_conn.close()
        await client.eof.wait()
        await server.lost.wait()
        assert server.calls == ["made", "eof", "lost"] and server.exc is None
        assert client.calls == ["made", "eof"]
        conn.close()
        await conn.wait_closed()
        assert client.calls == ["made", "eof", "lost"] and client.exc is None


async def test_backpressure_bounds_the_buffer() -> None:
    client, server = Recorder(), Recorder()
    payload = os.urandom(2 * 1024 * 1024)
    chunk = 16 * 1024
    peak = 0
    with anyio.fail_after(20):
        conn, server_conn = memory_connection_pair(client, server)
        server_conn.pause_reading()
        assert not server_conn.is_reading()

        async def write_all() -> None:
            nonlocal peak
            for offset in range(0, len(payload), chunk):
                conn.write(payload[offset : offset + chunk])
                peak = max(peak, conn.get_write_buffer_size())
                await conn.drain()

        async with anyio.create_task_group() as tg:
            tg.start_soon(write_all)
            for _ in range(20):
                await anyio.sleep(0)
            assert server.received == 0, "data delivered while reading is paused"
            assert DEFAULT_HIGH_WATER < conn.get_write_buffer_size() <= DEFAULT_HIGH_WATER + chunk
            server_conn.resume_reading()
        assert peak <= DEFAULT_HIGH_WATER + chunk
        assert await server.wait_bytes(len(payload)) == payload
        assert conn.get_write_buffer_size() == 0
        conn.close()
        await server.eof.wait()
        server_conn.close()
        await conn.wait_closed()
        await server_conn.wait_closed()


async def test_write_buffer_limits() -> None:
    client, server = Recorder(), Recorder()
    with anyio.fail_after(10):
        conn, server_conn = memory_connection_pair(client, server)
        server_conn.pause_reading()
        conn.write(b"x" * 100)
        conn.set_write_buffer_limits(high=50)
        assert conn.get_write_buffer_size() == 100
        drained = False

        async def drain() -> None:
            nonlocal drained
            await conn.drain()
            drained = True

        async with anyio.create_task_group() as tg:
            tg.start_soon(drain)
            await anyio.sleep(0.01)
            assert not drained
            server_conn.resume_reading()
        assert drained and server.data == b"x" * 100
        with pytest.raises(ValueError):
            conn.set_write_buffer_limits(high=1, low=2)
        conn.abort()
        await server.lost.wait()


async def test_abort_resets_the_peer_and_drops_unsent_data() -> None:
    client, server = Recorder(), Recorder()
    with anyio.fail_after(10):
        conn, server_conn = memory_connection_pair(client, server)
        server_conn.pause_reading()
        conn.write(b"never delivered")
        conn.abort()
        conn.abort()  # idempotent
        conn.write(b"ignored after abort")
        await conn.wait_closed()
        await server.lost.wait()
        assert client.calls == ["made", "lost"] and client.exc is None
        assert server.calls == ["made", "lost"]
        assert isinstance(server.exc, ConnectionResetError)
        assert server.received == 0
        with pytest.raises(ConnectionResetError):
            await server_conn.drain()
        with pytest.raises(ConnectionResetError):
            await conn.drain()


async def test_close_flushes_to_a_paused_peer_first() -> None:
    client, server = Recorder(), Recorder()
    with anyio.fail_after(10):
        conn, server_conn = memory_connection_pair(client, server)
        server_conn.pause_reading()
        conn.write(b"flush me")
        conn.close()
        await anyio.sleep(0.01)
        assert client.calls == ["made"], "closed before the buffer was flushed"
        server_conn.resume_reading()
        await conn.wait_closed()
        await server.eof.wait()
        assert server.data == b"flush me" and server.calls == ["made", "eof"]
        server_conn.close()
        await server_conn.wait_closed()


async def test_pause_inside_data_received_stops_delivery() -> None:
    class Pauser(Recorder):
        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            assert self.conn is not None
            self.conn.pause_reading()

    client, server = Recorder(), Pauser()
    with anyio.fail_after(10):
        conn, server_conn = memory_connection_pair(client, server)
        conn.write(b"a" * (200 * 1024))  # more than one read
        conn.write_eof()
        await server.wait_bytes(1)
        for _ in range(10):
            await anyio.sleep(0)
        assert server.received == 64 * 1024 and server.calls == ["made"]
        while server.received < 200 * 1024:
            server_conn.resume_reading()
            await server.wait_bytes(server.received + 1)
        server_conn.resume_reading()
        await server.eof.wait()
        assert server.calls == ["made", "eof"]
        conn.close()
        server_conn.close()
        await conn.wait_closed()
        await server_conn.wait_closed()


async def test_set_handler_routes_further_callbacks() -> None:
    client, first, second = Recorder(), Recorder(), Recorder()
    with anyio.fail_after(10):
        conn, server_conn = memory_connection_pair(client, first)
        conn.write(b"before")
        await first.wait_bytes(6)
        server_conn.set_handler(second)
        assert server_conn.handler is second
        conn.write(b"after")
        await second.wait_bytes(5)
        conn.close()
        await second.eof.wait()
        server_conn.close()
        await second.lost.wait()
    assert first.data == b"before" and first.calls == ["made"]
    assert second.data == b"after" and second.calls == ["eof", "lost"]


async def test_failing_handler_aborts_the_connection() -> None:
    class Failing(Recorder):
        def data_received(self, data: bytes) -> None:
            raise ValueError("handler bug")

    client, server = Recorder(), Failing()
    with anyio.fail_after(10):
        conn, _ = memory_connection_pair(client, server)
        conn.write(b"boom")
        await server.lost.wait()
        await client.lost.wait()
    assert isinstance(server.exc, ValueError)
    assert isinstance(client.exc, ConnectionResetError)


async def test_listener_runs_http_through_the_protocol_core() -> None:
    """A sans-IO HTTP server and client talk over the listener, many requests, no sockets."""

    class HttpServer(Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.proto = ServerConnection()

        def data_received(self, data: bytes) -> None:
            assert self.conn is not None
            self.proto.receive_data(data)
            for event in self.proto.events():
                if isinstance(event, Request):
                    self.target = event.target
                elif isinstance(event, EndOfMessage):
                    body = self.target
                    headers = [(b"content-length", str(len(body)).encode())]
                    self.conn.write(
                        self.proto.send(Response(status_code=200, headers=headers))
                        + self.proto.send(Data(data=body))
                        + self.proto.send(EndOfMessage())
                    )

    handlers: list[HttpServer] = []

    def factory() -> HttpServer:
        handlers.append(HttpServer())
        return handlers[-1]

    async with MemoryListener(factory) as listener:
        assert listener.sockets == [] and len(listener.addresses) == 1
        client = Recorder()
        with anyio.fail_after(20):
            conn = await listener.connect(client)
            assert conn.peername == listener.addresses[0]
            proto = ClientConnection()
            for i in range(300):
                target = f"/item/{i}".encode()
                conn.write(
                    proto.send(Request(method=b"GET", target=target, headers=[(b"host", b"x")]))
                    + proto.send(EndOfMessage())
                )
                body = b""
                done = False
                while not done:
                    before = client.received
                    await client.wait_bytes(before + 1)
                    proto.receive_data(client.data[before:])
                    for event in proto.events():
                        if isinstance(event, Response):
                            assert event.status_code == 200
                        elif isinstance(event, Data):
                            body += event.data
                        elif isinstance(event, EndOfMessage):
                            done = True
                assert body == target
            conn.close()
            await conn.wait_closed()
    assert len(handlers) == 1
    with pytest.raises(ConnectionRefusedError):
        await listener.connect(Recorder())
    server_conn = handlers[0].conn
    assert server_conn is not None
    server_conn.close()
    await server_conn.wait_closed()


async def test_listener_factory_failure_resets_the_client() -> None:
    def factory() -> Recorder:
        raise RuntimeError("factory bug")

    listener = MemoryListener(factory, backend=get_backend())
    client = Recorder()
    with anyio.fail_after(10):
        conn = await listener.connect(client)
        await client.lost.wait()
        await conn.wait_closed()
    assert isinstance(client.exc, ConnectionResetError)
    await listener.aclose()


async def test_a_web_application_serves_over_the_listener() -> None:
    """The real server stack (Application, Server, RequestHandler) with no socket."""
    from treadle import web

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"hello {request.match_info['name']} from {request.remote}")

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"got": (await request.read()).decode()})

    app = web.Application()
    app.router.add_get("/hello/{name}", hello)
    app.router.add_post("/echo", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        assert runner.server is not None
        listener = MemoryListener(runner.server)  # type: ignore[arg-type]
        client = Recorder()
        with anyio.fail_after(30):
            conn = await listener.connect(client)
            proto = ClientConnection()
            for i in range(200):
                if i % 2:
                    body = b"payload %d" % i
                    head = Request(
                        b"POST",
                        b"/echo",
                        [(b"Host", b"memory"), (b"Content-Length", b"%d" % len(body))],
                    )
                    events = [head, Data(body), EndOfMessage()]
                    expected = b'{"got": "payload %d"}' % i
                else:
                    events = [Request(b"GET", b"/hello/n%d" % i, [(b"Host", b"memory")])]
                    events.append(EndOfMessage())
                    expected = b"hello n%d from memory" % i
                conn.write(b"".join(proto.send(event) for event in events))
                status, received, done = 0, b"", False
                while not done:
                    before = client.received
                    await client.wait_bytes(before + 1)
                    assert not client.lost.is_set()
                    proto.receive_data(client.data[before:])
                    for event in proto.events():
                        if isinstance(event, Response):
                            status = event.status_code
                        elif isinstance(event, Data):
                            received += event.data
                        elif isinstance(event, EndOfMessage):
                            done = True
                assert (status, received) == (200, expected)
            conn.close()
            await conn.wait_closed()
    finally:
        await runner.cleanup()


async def test_closed_connections_leave_no_task_or_timer_behind() -> None:
    backend = get_backend()
    before = task_count()
    with anyio.fail_after(10):
        pairs = [memory_connection_pair(Recorder(), Echo()) for _ in range(20)]
        for conn, _ in pairs:
            conn.write(b"ping")
        for conn, server_conn in pairs:
            await conn.handler.wait_bytes(4)  # type: ignore[attr-defined]
            conn.close()
            await conn.wait_closed()
            await server_conn.wait_closed()
        assert await wait_for_tasks(backend, before) <= before


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=strategies.malformed_requests())
async def test_the_server_answers_each_malformed_request_with_its_status(
    case: strategies.MalformedCase,
) -> None:
    """Fuzzing the whole server over memory: every defect gets its status, then a close."""
    from treadle import web

    async def read_all(request: web.Request) -> web.Response:
        await request.read()  # defects in the body surface here
        return web.Response(text="accepted")

    # A low-level server, not an Application: every request (asterisk-form targets
    # included) reaches read_all, so body defects cannot hide behind a 404.
    runner = web.ServerRunner(web.Server(read_all, access_log=None))
    await runner.setup()
    try:
        listener = MemoryListener(runner.server)  # type: ignore[arg-type]
        client = Recorder()
        with anyio.fail_after(10):
            conn = await listener.connect(client)
            conn.write(case.data)
            conn.write_eof()
            await client.eof.wait()
            conn.close()
            await conn.wait_closed()
    finally:
        await runner.cleanup()
    status_line = client.data.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 %d " % case.status_hint), (case.defect, status_line)
    assert client.data.count(b"HTTP/1.1 ") == 1, "answered more than one request"
