"""The trio backend object."""

from __future__ import annotations

import functools
import io
import os
import socket
import ssl as _ssl
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import IO, Any, TypeVar

import trio

from .._connect import SocketBackend
from .._interface import (
    AddrInfo,
    Connection,
    ConnectionHandler,
    HandlerFactory,
)
from .._sendfile import file_span, sendfile_fallback
from ._connection import TrioConnection
from ._listener import TrioListener
from ._signals import open_signal_receiver
from ._spawn import TrioTaskHandle, spawn
from ._sync import TrioDeadline, TrioTaskGroup, TrioTimer
from ._tls import ssl_stream, unwrap_broken

__all__ = ["TrioBackend"]

T = TypeVar("T")


def _is_regular_file(file: IO[bytes]) -> bool:
    try:
        return stat.S_ISREG(os.fstat(file.fileno()).st_mode)
    except (OSError, ValueError, io.UnsupportedOperation):
        return False


class TrioBackend(SocketBackend[TrioConnection, TrioListener]):
    """Backend on trio: system tasks for connections, cancel scopes for deadlines."""

    name = "trio"

    # -- connections (connect_tcp and connect_unix come from SocketBackend) -----------

    @staticmethod
    async def _sock_connect(sock: socket.socket, address: Any) -> None:
        """Non-blocking connect of a stdlib socket, as ``trio.socket`` does it."""
        await trio.lowlevel.checkpoint_if_cancelled()
        try:
            sock.connect(address)
        except BlockingIOError:
            pass
        else:
            await trio.lowlevel.cancel_shielded_checkpoint()
            return
        await trio.lowlevel.wait_writable(sock)
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, f"Connect call failed {address!r}: {os.strerror(err)}")

    async def _wrap_client(
        self,
        sock: socket.socket,
        handler: ConnectionHandler,
        ssl: _ssl.SSLContext | None,
        server_hostname: str | None,
    ) -> TrioConnection:
        try:
            stream = None
            if ssl is not None:
                stream = ssl_stream(sock, ssl, server_hostname=server_hostname)
                try:
                    await stream.do_handshake()
                except trio.BrokenResourceError as exc:
                    raise unwrap_broken(exc) from None
            return TrioConnection(sock, handler, stream)
        except BaseException:
            sock.close()
            raise

    # -- listening (serve_tcp and serve_unix come from SocketBackend) -----------------

    async def _checkpoint_if_cancelled(self) -> None:
        await trio.lowlevel.checkpoint_if_cancelled()

    async def serve_socket(
        self,
        handler_factory: HandlerFactory,
        sock: socket.socket,
        *,
        ssl: _ssl.SSLContext | None = None,
        backlog: int = 100,
    ) -> TrioListener:
        await trio.lowlevel.checkpoint_if_cancelled()
        sock.listen(backlog)
        sock.setblocking(False)
        # The socket stays the caller's if the listener cannot be made.
        return await self._start_listener(
            handler_factory, [sock], ssl=ssl, backlog=backlog, owned=False
        )

    async def _start_listener(
        self,
        handler_factory: HandlerFactory,
        sockets: list[socket.socket],
        *,
        ssl: _ssl.SSLContext | None,
        backlog: int,
        unix: bool = False,
        owned: bool = True,
    ) -> TrioListener:
        """Start accepting on ``sockets``; closes them on failure if they are ``owned``.

        ``backlog`` was applied when the sockets started listening.
        """
        try:
            listener = TrioListener(handler_factory, sockets, ssl=ssl, unix=unix)
        except BaseException:
            if owned:
                for sock in sockets:
                    sock.close()
            raise
        listener.start()
        # Yield without a cancellation point: the listener must reach the caller.
        await trio.lowlevel.cancel_shielded_checkpoint()
        return listener

    async def sendfile(
        self, conn: Connection, file: IO[bytes], offset: int = 0, count: int | None = None
    ) -> int:
        if isinstance(conn, TrioConnection) and conn.ssl_object is None and _is_regular_file(file):
            try:
                return await conn.sendfile_native(file, offset, file_span(file, offset, count))
            except NotImplementedError:
                pass
        return await sendfile_fallback(self, conn, file, offset, count)

    # -- concurrency and time ---------------------------------------------------------

    def task_group(self) -> TrioTaskGroup:
        return TrioTaskGroup()

    def create_event(self) -> trio.Event:
        return trio.Event()

    def create_lock(self) -> trio.Lock:
        return trio.Lock()

    def create_semaphore(self, value: int) -> trio.Semaphore:
        return trio.Semaphore(value)

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)

    async def checkpoint(self) -> None:
        await trio.lowlevel.checkpoint()

    def current_time(self) -> float:
        return trio.current_time()

    def fail_at(self, deadline: float | None) -> TrioDeadline:
        return TrioDeadline(deadline)

    def fail_after(self, seconds: float | None) -> TrioDeadline:
        return TrioDeadline(None if seconds is None else trio.current_time() + seconds)

    def create_timer(self, callback: Callable[[], object]) -> TrioTimer:
        return TrioTimer(callback)

    def spawn(
        self, func: Callable[..., Awaitable[object]], *args: Any, name: str | None = None
    ) -> TrioTaskHandle:
        return spawn(func, *args, name=name)

    async def run_in_thread(self, func: Callable[..., T], *args: Any) -> T:
        """Run blocking ``func`` in a worker thread (contextvars are copied by trio).

        Cancelling the caller abandons the thread's result, as on asyncio.
        """
        return await trio.to_thread.run_sync(functools.partial(func, *args), abandon_on_cancel=True)

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
        infos = await trio.socket.getaddrinfo(host, port, family, type, proto, flags)
        return [(int(f), int(t), p, c, tuple(a)) for f, t, p, c, a in infos]

    def open_signal_receiver(
        self, *signals: int
    ) -> AbstractAsyncContextManager[AsyncIterator[int]]:
        return open_signal_receiver(*signals)
