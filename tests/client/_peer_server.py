"""A tiny HTTP/1.1 server for the connector tests, on every backend.

Built on ``backend.serve_tcp`` and the sans-IO ``ServerConnection`` so the same server
runs under asyncio, uvloop and trio. It counts accepted and concurrently open
connections (what pool tests assert on) and lets a test answer each request with a
coroutine: return ``(status, headers, body)`` for a well-formed response, or raw
``bytes`` to write as they are (malformed or truncated responses), or ``None`` after
writing/closing by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from treadle.backends import Connection, TaskGroup, get_backend
from treadle.protocol import Data, EndOfMessage, Request, Response, ServerConnection

Answer = tuple[int, list[tuple[bytes, bytes]], bytes] | bytes | None
Responder = Callable[[Request, bytes, "PeerHandler"], Awaitable[Answer]]


async def ok(request: Request, body: bytes, handler: PeerHandler) -> Answer:
    """Echo the target and the body."""
    payload = request.method + b" " + request.target + b" " + body
    return 200, [(b"Content-Length", str(len(payload)).encode())], payload


class PeerServer:
    def __init__(self, respond: Responder, group: TaskGroup) -> None:
        self.respond = respond
        self.group = group
        self.accepted = 0
        self.open = 0
        self.max_open = 0
        self.requests = 0
        self.handlers: list[PeerHandler] = []
        self.port = 0

    def factory(self) -> PeerHandler:
        handler = PeerHandler(self)
        self.handlers.append(handler)
        return handler

    def close_all(self) -> None:
        for handler in self.handlers:
            if handler.conn is not None:
                handler.conn.abort()


class PeerHandler:
    def __init__(self, server: PeerServer) -> None:
        self.server = server
        self.proto = ServerConnection()
        self.conn: Connection | None = None
        self.request: Request | None = None
        self.body: list[bytes] = []
        self.closed = False

    def connection_made(self, conn: Connection) -> None:
        self.conn = conn
        server = self.server
        server.accepted += 1
        server.open += 1
        server.max_open = max(server.max_open, server.open)

    def data_received(self, data: bytes) -> None:
        self.proto.receive_data(data)
        self._process()

    def eof_received(self) -> None:
        self.proto.receive_data(b"")
        self._process()
        assert self.conn is not None
        self.conn.close()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = True
        self.server.open -= 1

    def _process(self) -> None:
        try:
            events = list(self.proto.events())
        except Exception:
            assert self.conn is not None
            self.conn.abort()
            return
        for event in events:
            if isinstance(event, Request):
                self.request = event
                self.body = []
            elif isinstance(event, Data):
                self.body.append(event.data)
            elif isinstance(event, EndOfMessage):
                assert self.request is not None
                self.server.requests += 1
                self.server.group.start_soon(self._answer, self.request, b"".join(self.body))

    async def _answer(self, request: Request, body: bytes) -> None:
        answer = await self.server.respond(request, body, self)
        conn = self.conn
        if conn is None or conn.is_closing():
            return
        if isinstance(answer, bytes):
            conn.write(answer)
        elif answer is not None:
            status, headers, payload = answer
            out = self.proto.send(Response(status, headers))
            if payload:
                out += self.proto.send(Data(payload))
            out += self.proto.send(EndOfMessage())
            conn.write(out)
            if self.proto.must_close:
                conn.close()


@asynccontextmanager
async def peer_server(respond: Responder = ok, ssl: Any = None) -> AsyncIterator[PeerServer]:
    backend = get_backend()
    async with backend.task_group() as group:
        server = PeerServer(respond, group)
        listener = await backend.serve_tcp(server.factory, "127.0.0.1", 0, ssl=ssl)
        server.port = listener.addresses[0][1]
        try:
            yield server
        finally:
            await listener.aclose()
            server.close_all()
            group.cancel()


def http_request(path: str = "/", method: str = "GET", extra: Any = ()) -> Request:
    headers = [(b"Host", b"127.0.0.1"), *extra]
    return Request(method.encode(), path.encode(), headers)
