"""The asyncio backend object (also used, unchanged, on uvloop's loop)."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import socket
import ssl as _ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import IO, Any, TypeVar

from .._connect import SocketBackend
from .._interface import (
    AddrInfo,
    Connection,
    ConnectionHandler,
    HandlerFactory,
)
from .._sendfile import sendfile_fallback
from .._sockets import unix_socket_files
from ._connection import AsyncioConnection
from ._listener import AsyncioListener
from ._signals import open_signal_receiver
from ._spawn import AsyncioTaskHandle, spawn
from ._sync import AsyncioDeadline, AsyncioEvent, AsyncioTaskGroup, AsyncioTimer

__all__ = ["AsyncioBackend"]

T = TypeVar("T")


class AsyncioBackend(SocketBackend[AsyncioConnection, AsyncioListener]):
    """Backend on ``asyncio.Protocol`` transports; looks the loop up at each call."""

    name = "asyncio"

    # -- connections (connect_tcp and connect_unix come from SocketBackend) -----------

    @staticmethod
    async def _sock_connect(sock: socket.socket, address: Any) -> None:
        await asyncio.get_running_loop().sock_connect(sock, address)

    async def _wrap_client(
        self,
        sock: socket.socket,
        handler: ConnectionHandler,
        ssl: _ssl.SSLContext | None,
        server_hostname: str | None,
    ) -> AsyncioConnection:
        loop = asyncio.get_running_loop()
        conn = AsyncioConnection(loop, handler)
        try:
            await loop.create_connection(
                lambda: conn,
                sock=sock,
                ssl=ssl,
                server_hostname=server_hostname if ssl is not None else None,
            )
        except BaseException:
            if conn.transport is not None:
                conn.transport.abort()
            else:
                # asyncio closes its half-built transport on failure, but a failure before
                # the transport exists leaves the socket to us.
                sock.close()
            raise
        return conn

    # -- listening (serve_tcp and serve_unix come from SocketBackend) -----------------

    async def _start_listener(
        self,
        handler_factory: HandlerFactory,
        sockets: list[socket.socket],
        *,
        ssl: _ssl.SSLContext | None,
        backlog: int,
        unix: bool = False,
    ) -> AsyncioListener:
        """One ``asyncio.Server`` per socket; closes them all if any fails to start."""
        loop = asyncio.get_running_loop()

        def factory() -> AsyncioConnection:
            return AsyncioConnection(loop, factory=handler_factory)

        servers: list[asyncio.Server] = []
        try:
            unix_paths = unix_socket_files(sockets) if unix else []
            for sock in sockets:
                server = await loop.create_server(factory, sock=sock, ssl=ssl, backlog=backlog)
                servers.append(server)
        except BaseException:
            for server in servers:
                server.close()
            for sock in sockets:
                sock.close()
            raise
        return AsyncioListener(servers, sockets, unix_paths)

    async def serve_socket(
        self,
        handler_factory: HandlerFactory,
        sock: socket.socket,
        *,
        ssl: _ssl.SSLContext | None = None,
        backlog: int = 100,
    ) -> AsyncioListener:
        sock.setblocking(False)
        return await self._start_listener(handler_factory, [sock], ssl=ssl, backlog=backlog)

    async def sendfile(
        self, conn: Connection, file: IO[bytes], offset: int = 0, count: int | None = None
    ) -> int:
        loop = asyncio.get_running_loop()
        if (
            isinstance(conn, AsyncioConnection)
            and conn.transport is not None
            and conn.ssl_object is None
            and isinstance(loop, asyncio.BaseEventLoop)  # uvloop has no loop.sendfile
        ):
            try:
                return await loop.sendfile(conn.transport, file, offset, count, fallback=False)
            except asyncio.SendfileNotAvailableError:
                pass
        return await sendfile_fallback(self, conn, file, offset, count)

    # -- concurrency and time ---------------------------------------------------------

    def task_group(self) -> AsyncioTaskGroup:
        return AsyncioTaskGroup()

    def create_event(self) -> AsyncioEvent:
        return AsyncioEvent()

    def create_lock(self) -> asyncio.Lock:
        return asyncio.Lock()

    def create_semaphore(self, value: int) -> asyncio.Semaphore:
        return asyncio.Semaphore(value)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def checkpoint(self) -> None:
        await asyncio.sleep(0)

    def current_time(self) -> float:
        return asyncio.get_running_loop().time()

    def fail_at(self, deadline: float | None) -> AsyncioDeadline:
        return AsyncioDeadline(asyncio.get_running_loop(), deadline)

    def fail_after(self, seconds: float | None) -> AsyncioDeadline:
        loop = asyncio.get_running_loop()
        return AsyncioDeadline(loop, None if seconds is None else loop.time() + seconds)

    def create_timer(self, callback: Callable[[], object]) -> AsyncioTimer:
        return AsyncioTimer(asyncio.get_running_loop(), callback)

    def spawn(
        self, func: Callable[..., Awaitable[object]], *args: Any, name: str | None = None
    ) -> AsyncioTaskHandle:
        return spawn(func, *args, name=name)

    async def run_in_thread(self, func: Callable[..., T], *args: Any) -> T:
        """Run blocking ``func`` in the default executor, with the caller's contextvars.

        Cancelling the caller abandons the thread's result; the thread runs to the end.
        """
        ctx = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(ctx.run, func, *args)
        )

    async def getaddrinfo(
        self,
        host: str | None,
        port: int | str | None,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[AddrInfo]:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, family=family, type=type, proto=proto, flags=flags
        )
        return [(int(f), int(t), p, c, tuple(a)) for f, t, p, c, a in infos]

    def open_signal_receiver(
        self, *signals: int
    ) -> AbstractAsyncContextManager[AsyncIterator[int]]:
        return open_signal_receiver(*signals)
