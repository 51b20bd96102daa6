"""treadle.protocol over a transport of your own: an in-memory pipe that cuts bytes up.

The sans-IO core never does I/O, so "the network" can be anything that moves bytes.
Here it is :class:`ChoppyPipe`, which delivers what was written in random small
fragments (seeded, so every run is the same), the way TCP may. A client and a server
connection are driven in lockstep in one thread, with no event loop: the program checks
that whatever the fragmentation, the server sees the same requests and the client the
same responses (keep-alive, a chunked upload, and a malformed request answered 400).

:func:`run_on_backend` then puts the very same server logic behind a
``treadle.backends`` connection handler, over ``memory_connection_pair``, on asyncio,
uvloop or trio: the third way to feed the same core.

``python examples/sansio_memory.py``
"""

from __future__ import annotations

import random
from collections.abc import Callable

from treadle.backends import BACKEND_NAMES, Connection, memory_connection_pair, run
from treadle.protocol import (
    NEED_DATA,
    ClientConnection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    RemoteProtocolError,
    Request,
    Response,
    Sentinel,
    ServerConnection,
)


class ChoppyPipe:
    """One direction of a byte stream: ``write`` everything, ``read`` 1-7 bytes at a time."""

    def __init__(self, rng: random.Random) -> None:
        self.buffer = bytearray()
        self.rng = rng
        self.closed = False

    def write(self, data: bytes) -> None:
        self.buffer += data

    def read(self) -> bytes | None:
        """Some bytes; ``b""`` at EOF; ``None`` when nothing is there yet."""
        if not self.buffer:
            return b"" if self.closed else None
        size = self.rng.randint(1, 7)
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data


class Server:
    """Answers requests: the application is ``body -> reversed body`` plus the path."""

    def __init__(self, send: Callable[[bytes], None]) -> None:
        self.conn = ServerConnection()
        self.send = send
        self.request: Request | None = None
        self.body = bytearray()
        self.seen: list[tuple[bytes, bytes, bytes]] = []  # (method, target, body)

    def feed(self, data: bytes) -> None:
        """Bytes from the transport (``b""``: the client closed)."""
        conn = self.conn
        conn.receive_data(data)
        while not conn.must_close:
            try:
                event = conn.next_event()
            except RemoteProtocolError as error:
                self.reply(error.status_hint, b"bad request\n")
                return
            if isinstance(event, Sentinel | ConnectionClosed):
                return
            if isinstance(event, Request):
                self.request, self.body = event, bytearray()
            elif isinstance(event, Data):
                self.body += event.data
            elif isinstance(event, EndOfMessage) and self.request is not None:
                request, body = self.request, bytes(self.body)
                self.seen.append((request.method, request.target, body))
                self.reply(200, request.target + b" " + body[::-1])

    def reply(self, status: int, payload: bytes) -> None:
        fields = [(b"Content-Length", b"%d" % len(payload))]
        conn = self.conn
        self.send(conn.send(Response(status, fields)) + conn.send(Data(payload)))
        self.send(conn.send(EndOfMessage()))


def exchange_all(seed: int) -> tuple[list[tuple[bytes, bytes, bytes]], list[tuple[int, bytes]]]:
    """Run three requests and one bad one through a :class:`ChoppyPipe` pair."""
    rng = random.Random(seed)
    up, down = ChoppyPipe(rng), ChoppyPipe(rng)
    server = Server(down.write)
    client = ClientConnection()
    answers: list[tuple[int, bytes]] = []

    def pump_until_response() -> None:
        status, body = 0, bytearray()
        while True:
            event = client.next_event()
            if isinstance(event, Response):
                status = event.status_code
            elif isinstance(event, Data):
                body += event.data
            elif isinstance(event, EndOfMessage):
                answers.append((status, bytes(body)))
                return
            elif event is NEED_DATA:
                # Move bytes along: client -> server, then server -> client.
                while (piece := up.read()) is not None:
                    server.feed(piece)
                piece = down.read()
                if piece is not None:
                    client.receive_data(piece)
            else:
                raise AssertionError(f"unexpected {event!r}")

    host = [(b"Host", b"memory")]
    up.write(client.send(Request(b"GET", b"/hello", host)) + client.send(EndOfMessage()))
    pump_until_response()
    chunked = [*host, (b"Transfer-Encoding", b"chunked")]
    up.write(client.send(Request(b"POST", b"/upload", chunked)))
    for piece in (b"sans", b"-", b"IO"):
        up.write(client.send(Data(piece)))
    up.write(client.send(EndOfMessage()))
    pump_until_response()
    # A second client speaks garbage: the server answers 400 and closes.
    bad_up, bad_down = ChoppyPipe(rng), ChoppyPipe(rng)
    bad_server = Server(bad_down.write)
    bad_up.write(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    while (bad := bad_up.read()) is not None and not bad_server.conn.must_close:
        bad_server.feed(bad)
    status_line = bytes(bad_down.buffer).split(b"\r\n", 1)[0]
    answers.append((int(status_line.split()[1]), b""))
    return server.seen, answers


class _HandlerServer(Server):
    """The same server as a ``treadle.backends`` ConnectionHandler."""

    def __init__(self) -> None:
        super().__init__(self._write)
        self.transport: Connection | None = None

    def _write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def connection_made(self, conn: Connection) -> None:
        self.transport = conn

    def data_received(self, data: bytes) -> None:
        self.feed(data)

    def eof_received(self) -> None:
        self.feed(b"")
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: BaseException | None) -> None:
        pass


class _Collect:
    def __init__(self) -> None:
        self.data = bytearray()
        self.conn: Connection | None = None

    def connection_made(self, conn: Connection) -> None:
        self.conn = conn

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def connection_lost(self, exc: BaseException | None) -> None:
        pass


async def _backend_round_trip() -> bytes:
    client = _Collect()
    conn, _ = memory_connection_pair(client, _HandlerServer())
    proto = ClientConnection()
    conn.write(proto.send(Request(b"PUT", b"/x", [(b"Host", b"m"), (b"Content-Length", b"3")])))
    conn.write(proto.send(Data(b"abc")) + proto.send(EndOfMessage()))
    conn.write_eof()
    await conn.wait_closed()
    proto.receive_data(bytes(client.data))
    body = b"".join(e.data for e in proto.events() if isinstance(e, Data))
    return body


def run_on_backend(backend: str) -> bytes:
    """The server above, over an in-memory backend connection on ``backend``."""
    return run(_backend_round_trip, backend=backend)


def main() -> None:
    reference = None
    for seed in range(20):
        seen, answers = exchange_all(seed)
        assert reference is None or (seen, answers) == reference, seed
        reference = (seen, answers)
    assert reference is not None
    seen, answers = reference
    print("the server saw, under 20 different fragmentations:")
    for method, target, body in seen:
        print(f"  {method.decode()} {target.decode()} body={body!r}")
    print("the client got:")
    for status, body in answers:
        print(f"  {status} {body!r}")
    for backend in BACKEND_NAMES:
        print(f"over memory_connection_pair on {backend}: {run_on_backend(backend)!r}")


if __name__ == "__main__":
    main()
