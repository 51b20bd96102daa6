"""Loopback WebSocket endpoints built from treadle's own pieces (no client/server yet).

``serve(app)`` runs a TCP server that does the opening handshake with the sans-IO HTTP
core and the handshake helpers, then hands a :class:`WebSocketChannel` to ``app`` in a
task; ``connect(port)`` is the client half. This is the dance ``WebSocketResponse`` and
``ws_connect`` perform, kept minimal.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from treadle.backends import Backend, Connection, TaskGroup, get_backend
from treadle.protocol import (
    NEED_DATA,
    PAUSED,
    ClientConnection,
    ClientHandshake,
    EndOfMessage,
    HandshakeError,
    InformationalResponse,
    PerMessageDeflate,
    Request,
    Response,
    ServerConnection,
    ServerHandshake,
)
from treadle.websocket import WebSocketChannel

App = Callable[[WebSocketChannel], Awaitable[object]]


class _ServerUpgrade:
    def __init__(self, app: App, group: TaskGroup, compress: bool, kw: dict[str, Any]) -> None:
        self.app = app
        self.group = group
        self.compress = compress
        self.kw = kw
        self.http = ServerConnection()
        self.conn: Connection | None = None

    def connection_made(self, conn: Connection) -> None:
        self.conn = conn

    def data_received(self, data: bytes) -> None:
        assert self.conn is not None
        self.http.receive_data(data)
        event = self.http.next_event()
        while event is not NEED_DATA and event is not PAUSED and not isinstance(event, Request):
            event = self.http.next_event()
        if not isinstance(event, Request):
            return
        try:
            hs = ServerHandshake(event.method, event.headers, event.http_version)
        except HandshakeError as exc:
            self.conn.write(
                self.http.send(Response(exc.status_hint, [(b"Content-Length", b"0"), *exc.headers]))
            )
            self.conn.close()
            return
        headers, _, deflate = hs.accept(compress=self.compress)
        self.conn.write(self.http.send(InformationalResponse(101, headers)))
        channel = WebSocketChannel("server", deflate=deflate, **self.kw)
        trailing, eof = self.http.trailing_data
        channel.attach(self.conn, trailing, eof)
        self.group.start_soon(self.app, channel)

    def eof_received(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def connection_lost(self, exc: BaseException | None) -> None:
        pass


@contextlib.asynccontextmanager
async def serve(app: App, *, compress: bool = True, **kw: Any) -> AsyncIterator[int]:
    """A WebSocket server on 127.0.0.1; yields its port. Apps are awaited on exit."""
    backend = get_backend()
    async with backend.task_group() as group:
        listener = await backend.serve_tcp(
            lambda: _ServerUpgrade(app, group, compress, kw), "127.0.0.1", 0
        )
        try:
            yield listener.addresses[0][1]
        finally:
            await listener.aclose()


class _ClientUpgrade:
    def __init__(self, backend: Backend, hs: ClientHandshake, kw: dict[str, Any]) -> None:
        self.hs = hs
        self.kw = kw
        self.http = ClientConnection()
        self.ready = backend.create_event()
        self.channel: WebSocketChannel | None = None
        self.error: BaseException | None = None
        self.conn: Connection | None = None

    def connection_made(self, conn: Connection) -> None:
        self.conn = conn
        request = Request(b"GET", b"/", [(b"Host", b"localhost"), *self.hs.request_headers()])
        conn.write(self.http.send(request) + self.http.send(EndOfMessage()))

    def data_received(self, data: bytes) -> None:
        assert self.conn is not None
        self.http.receive_data(data)
        event = self.http.next_event()
        if event is NEED_DATA:
            return
        try:
            assert isinstance(event, (InformationalResponse, Response))
            _, deflate = self.hs.validate(event.status_code, event.headers)
        except (HandshakeError, AssertionError) as exc:
            self.error = exc
            self.conn.close()
            self.ready.set()
            return
        self.channel = WebSocketChannel("client", deflate=deflate, **self.kw)
        trailing, eof = self.http.trailing_data
        self.channel.attach(self.conn, trailing, eof)
        self.ready.set()

    def eof_received(self) -> None:
        pass

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self.ready.is_set():
            self.error = exc or ConnectionResetError("closed during the handshake")
            self.ready.set()


async def connect(
    port: int, *, compress: bool = True, protocols: tuple[str, ...] = (), **kw: Any
) -> WebSocketChannel:
    backend = get_backend()
    offer = PerMessageDeflate(client_max_window_bits=0) if compress else None
    handler = _ClientUpgrade(backend, ClientHandshake(protocols=protocols, deflate=offer), kw)
    await backend.connect_tcp(handler, "127.0.0.1", port)
    await handler.ready.wait()
    if handler.error is not None:
        raise handler.error
    assert handler.channel is not None
    return handler.channel
