"""Mutated requests never crash, hang or silently truncate (in-memory connections).

Each case is a valid request with random bytes flipped, inserted or removed, sent in
random pieces, then EOF. The server must answer only with whole HTTP/1.1 responses (or
nothing), close the connection, and log no failure of its own.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import anyio
import pytest

from treadle.backends import Connection, get_backend, memory_connection_pair
from treadle.server import Response
from treadle.server._web_server import Server

VALID = [
    b"GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
    b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world",
    b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.1\r\nHost: y\r\n\r\n",
    b"PUT /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
]


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        where = rng.randrange(len(out) + 1)
        action = rng.random()
        if action < 0.4 and out:
            out[min(where, len(out) - 1)] = rng.randrange(256)
        elif action < 0.7:
            out[where:where] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 5)))
        else:
            del out[where : where + rng.randint(1, 5)]
    return bytes(out)


class _Client:
    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = get_backend().create_event()
        self.conn: Connection | None = None

    def connection_made(self, conn: Connection) -> None:
        self.conn = conn

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> None:
        self.closed.set()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed.set()


async def echo_length(request: Any) -> Response:
    body = await request.read()
    return Response(text=f"{request.method} {len(body)}")


def check_responses(data: bytes) -> None:
    """``data`` is a sequence of complete responses with Content-Length bodies."""
    rest = data
    while rest:
        assert rest.startswith(b"HTTP/1.1 "), rest[:40]
        head, sep, rest = rest.partition(b"\r\n\r\n")
        assert sep, "incomplete response head"
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        if 100 <= status < 200:
            continue
        assert len(rest) >= length, "truncated body"
        rest = rest[length:]


@pytest.mark.parametrize("seed", range(4))
async def test_mutated_requests(seed: int, caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(seed)
    server = Server(echo_length, access_log=None, header_read_timeout=2.0)
    with caplog.at_level(logging.WARNING):
        for _ in range(60):
            wire = mutate(rng, rng.choice(VALID))
            client = _Client()
            conn, _ = memory_connection_pair(client, server())
            position = 0
            while position < len(wire):
                step = rng.randint(1, 40)
                conn.write(wire[position : position + step])
                position += step
                if rng.random() < 0.3:
                    await anyio.sleep(0)
            conn.write_eof()
            with anyio.fail_after(5):
                await client.closed.wait()
            check_responses(bytes(client.data))
            conn.close()
        with anyio.fail_after(5):
            await server.shutdown(1.0)
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert failures == []
