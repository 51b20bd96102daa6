"""Loopback servers and raw clients for the runtime tests (all three backends)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import sniffio

from treadle.backends import get_backend
from treadle.server._app import Application
from treadle.server._web_server import Server


@contextlib.asynccontextmanager
async def serve(
    target: Application | Callable[[Any], Awaitable[Any]], **kwargs: Any
) -> AsyncIterator[tuple[str, Server]]:
    """``(base_url, server)`` for ``target`` on 127.0.0.1, shut down on exit."""
    backend = get_backend()
    if isinstance(target, Application):
        server = target._make_handler(**kwargs)
    else:
        server = Server(target, **kwargs)
    listener = await backend.serve_tcp(server, "127.0.0.1", 0)
    try:
        host, port = listener.addresses[0][:2]
        yield f"http://{host}:{port}", server
    finally:
        await listener.aclose()
        with anyio.CancelScope(shield=True):
            await server.shutdown(2.0)


def port_of(base_url: str) -> int:
    return int(base_url.rsplit(":", 1)[1])


async def read_until_close(stream: anyio.abc.ByteStream, limit: float = 5.0) -> bytes:
    """Everything the server sends until it closes (bounded in time)."""
    data = bytearray()
    with anyio.fail_after(limit):
        while True:
            try:
                chunk = await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError):
                return bytes(data)
            data += chunk


async def read_response(stream: anyio.abc.ByteStream, buffer: bytearray) -> bytes:
    """One response with a Content-Length body (``buffer`` keeps what follows it)."""
    with anyio.fail_after(5):
        while b"\r\n\r\n" not in buffer:
            buffer += await stream.receive()
        head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            rest += await stream.receive()
        buffer[:] = rest[length:]
        return head + b"\r\n\r\n" + rest[:length]


def dechunk(body: bytes) -> bytes:
    """The data of a chunked body (RFC 9112 7.1), extensions and trailers dropped."""
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2 :]
    return out


@contextlib.asynccontextmanager
async def raw_connection(base_url: str) -> AsyncIterator[anyio.abc.SocketStream]:
    async with await anyio.connect_tcp("127.0.0.1", port_of(base_url)) as stream:
        yield stream


async def answer_to(
    target: Application | Callable[[Any], Awaitable[Any]], wire: bytes, **kwargs: Any
) -> bytes:
    """Serve ``target`` (``serve``'s keywords), send ``wire`` raw on one connection and
    return everything the server sends until it closes."""
    async with serve(target, **kwargs) as (url, _), raw_connection(url) as stream:
        await stream.send(wire)
        return await read_until_close(stream)


def on_asyncio() -> bool:
    return sniffio.current_async_library() == "asyncio"
