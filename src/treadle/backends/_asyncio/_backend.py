"""The asyncio backend object (also used, unchanged, on uvloop's loop)."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import socket
import ssl as _ssl
from collections.abc import Callable, Sequence
from typing import IO, Any, TypeVar

from .._connect import open_tcp_listeners, open_tcp_socket
from .._interface import (
    AbstractResolver,
    AddrInfo,
    Connection,
    ConnectionHandler,
    HandlerFactory,
    PeerVerifier,
)
from .._sendfile import sendfile_fallback
from .._sockets import make_unix_listener
from ._connection import AsyncioConnection
from ._listener import AsyncioListener, start_listener
from ._sync import AsyncioDeadline, AsyncioTaskGroup, AsyncioTimer

__all__ = ["AsyncioBackend"]

T = TypeVar("T")


async def _sock_connect(sock: socket.socket, address: Any) -> None:
    await asyncio.get_running_loop().sock_connect(sock, address)


class AsyncioBackend:
    """Backend on ``asyncio.Protocol`` transports; looks the loop up at each call."""

    name = "asyncio"

    # -- connections ------------------------------------------------------------------

    async def connect_tcp(
        self,
        handler: ConnectionHandler,
        host: str,
        port: int,
        *,
        ssl: _ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        local_addr: tuple[str, int] | None = None,
        family: int = 0,
        happy_eyeballs_delay: float | None = 0.25,
        verify_peer: PeerVerifier | None = None,
        resolver: AbstractResolver | None = None,
    ) -> AsyncioConnection:
        sock = await open_tcp_socket(
            self,
            _sock_connect,
            host,
            port,
            family=family,
            local_addr=local_addr,
            delay=happy_eyeballs_delay,
            resolver=resolver,
        )
        if ssl is not None and server_hostname is None:
            server_hostname = host
        return await self._wrap_client(sock, handler, ssl, server_hostname, verify_peer)

    async def connect_unix(
        self,
        handler: ConnectionHandler,
        path: str,
        *,
        ssl: _ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        verify_peer: PeerVerifier | None = None,
    ) -> AsyncioConnection:
        if ssl is not None and server_hostname is None and ssl.check_hostname:
            raise ValueError("server_hostname is required for TLS over a Unix socket")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            await _sock_connect(sock, path)
        except BaseException:
            sock.close()
            raise
        return await self._wrap_client(sock, handler, ssl, server_hostname, verify_peer)

    async def _wrap_client(
        self,
        sock: socket.socket,
        handler: ConnectionHandler,
        ssl: _ssl.SSLContext | None,
        server_hostname: str | None,
        verify_peer: PeerVerifier | None,
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
        try:
            if verify_peer is not None and ssl is not None:
                ssl_object = conn.ssl_object
                assert ssl_object is not None
                verify_peer.check(ssl_object)
            conn.start()
        except BaseException:
            conn.abort()
            raise
        return conn

    async def serve_tcp(
        self,
        handler_factory: HandlerFactory,
        host: str | Sequence[str] | None,
        port: int,
        *,
        ssl: _ssl.SSLContext | None = None,
        backlog: int = 100,
        reuse_port: bool = False,
        reuse_address: bool = True,
        family: int = 0,
    ) -> AsyncioListener:
        sockets = await open_tcp_listeners(
            self,
            host,
            port,
            family=family,
            backlog=backlog,
            reuse_port=reuse_port,
            reuse_address=reuse_address,
        )
        return await start_listener(handler_factory, sockets, ssl=ssl, backlog=backlog)

    async def serve_unix(
        self,
        handler_factory: HandlerFactory,
        path: str,
        *,
        ssl: _ssl.SSLContext | None = None,
        backlog: int = 100,
    ) -> AsyncioListener:
        sock = make_unix_listener(path, backlog)
        return await start_listener(handler_factory, [sock], ssl=ssl, backlog=backlog, unix=True)

    async def serve_socket(
        self,
        handler_factory: HandlerFactory,
        sock: socket.socket,
        *,
        ssl: _ssl.SSLContext | None = None,
        backlog: int = 100,
    ) -> AsyncioListener:
        sock.setblocking(False)
        return await start_listener(handler_factory, [sock], ssl=ssl, backlog=backlog)

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

    def create_event(self) -> asyncio.Event:
        return asyncio.Event()

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
