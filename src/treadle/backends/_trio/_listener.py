"""trio listening sockets: one accept-loop task per socket made by ``_sockets``."""

from __future__ import annotations

import errno
import logging
import os
import socket
import ssl as _ssl
from types import TracebackType
from typing import Any

import trio

from .._interface import HandlerFactory, SocketLike
from .._sockets import remove_unix_socket, set_nodelay
from ._connection import TrioConnection
from ._sync import spawn_background

__all__ = ["TrioListener"]

logger = logging.getLogger("treadle.backends")

# Out of descriptors or memory: back off instead of spinning, as trio's listeners do.
_RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})
# The pending connection died before we accepted it: just take the next one.
_TRANSIENT_ERRORS = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.EPERM})


class TrioListener:
    def __init__(
        self,
        handler_factory: HandlerFactory,
        sockets: list[socket.socket],
        *,
        ssl: _ssl.SSLContext | None,
        handshake_timeout: float = 60.0,
        unix: bool = False,
    ) -> None:
        self._factory = handler_factory
        self._sockets = sockets
        self._ssl = ssl
        self._handshake_timeout = handshake_timeout
        self._addresses = [s.getsockname() for s in sockets]
        self._unix_paths: list[tuple[str, int]] = []
        if unix:
            for path in self._addresses:
                if isinstance(path, str) and path and not path.startswith("\0"):
                    self._unix_paths.append((path, os.stat(path).st_ino))
        self._scopes = [trio.CancelScope() for _ in sockets]
        self._done = [trio.Event() for _ in sockets]
        self._closed = False

    def start(self) -> None:
        for sock, scope, done in zip(self._sockets, self._scopes, self._done, strict=True):
            spawn_background(self._accept_loop, sock, scope, done, name=f"treadle accept {sock}")

    @property
    def addresses(self) -> list[Any]:
        return list(self._addresses)

    @property
    def sockets(self) -> list[SocketLike]:
        return list(self._sockets)

    async def _accept_loop(
        self, sock: socket.socket, scope: trio.CancelScope, done: trio.Event
    ) -> None:
        try:
            with scope:
                while True:
                    try:
                        client, _ = sock.accept()
                    except BlockingIOError:
                        await trio.lowlevel.wait_readable(sock)
                        continue
                    except OSError as exc:
                        if exc.errno in _TRANSIENT_ERRORS:
                            continue
                        if exc.errno in _RESOURCE_ERRORS:
                            logger.error("accept() on %r failed: %s; retrying", sock, exc)
                            await trio.sleep(0.1)
                            continue
                        raise
                    self._serve(client)
                    await trio.lowlevel.checkpoint()
        except Exception:
            if not self._closed:
                logger.exception("accept loop on %r stopped", sock)
        finally:
            done.set()

    def _serve(self, client: socket.socket) -> None:
        try:
            client.setblocking(False)
            set_nodelay(client)
            stream = None
            if self._ssl is not None:
                stream = trio.SSLStream(
                    trio.SocketStream(trio.socket.from_stdlib_socket(client)),
                    self._ssl,
                    server_side=True,
                    https_compatible=True,
                )
            conn = TrioConnection(client, None, stream)
        except BaseException:
            client.close()
            raise
        conn.start_server(self._factory, self._handshake_timeout)

    async def aclose(self) -> None:
        if self._closed:
            await trio.lowlevel.checkpoint()
            return
        self._closed = True
        for scope in self._scopes:
            scope.cancel()
        for sock in self._sockets:
            if sock.fileno() >= 0:
                trio.lowlevel.notify_closing(sock)
                sock.close()
        for path, inode in self._unix_paths:
            remove_unix_socket(path, inode)
        for done in self._done:
            await done.wait()

    async def __aenter__(self) -> TrioListener:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
