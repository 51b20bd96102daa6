"""A tiny ``ServerLike`` for the runner tests: answers every request with ``hello``.

It lets the runner and site tests run on the real backends and the real protocol core
without depending on ``web.Server``; it records the shutdown calls the runner makes.
"""

from __future__ import annotations

from treadle.backends import Connection
from treadle.protocol import Data, EndOfMessage, Request, Response, ServerConnection

BODY = b"hello"


class HelloHandler:
    def __init__(self, server: HelloServer) -> None:
        self._server = server
        self._proto = ServerConnection()
        self._conn: Connection | None = None

    def connection_made(self, conn: Connection) -> None:
        self._conn = conn
        self._server.open.add(self)

    def data_received(self, data: bytes) -> None:
        self._feed(data)

    def eof_received(self) -> None:
        self._feed(b"")

    def _feed(self, data: bytes) -> None:
        assert self._conn is not None
        self._proto.receive_data(data)
        for event in self._proto.events():
            if isinstance(event, Request):
                self._server.requests_count += 1
            elif isinstance(event, EndOfMessage):
                head = Response(200, [(b"Content-Length", str(len(BODY)).encode())])
                self._conn.write(
                    self._proto.send(head) + self._proto.send(Data(BODY)) + self._proto.send(event)
                )
                if self._proto.must_close or self._server.closing:
                    self._conn.close()
        if self._proto.must_close:
            self._conn.close()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._server.open.discard(self)


class HelloServer:
    def __init__(self) -> None:
        self.calls: list[object] = []
        self.open: set[HelloHandler] = set()
        self.requests_count = 0
        self.closing = False

    def __call__(self) -> HelloHandler:
        return HelloHandler(self)

    def pre_shutdown(self) -> None:
        self.calls.append("pre_shutdown")
        self.closing = True

    async def shutdown(self, timeout: float | None = None) -> None:
        self.calls.append(("shutdown", timeout))
        for handler in list(self.open):
            if handler._conn is not None:
                handler._conn.close()
