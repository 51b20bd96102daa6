"""trio listening sockets: one accept-loop task per socket made by ``_sockets``."""

from __future__ import annotations

import errno
import socket
import ssl as _ssl

import trio

from .._connection import logger
from .._interface import HandlerFactory
from .._listener import BaseListener
from .._sockets import set_nodelay, unix_socket_files
from ._connection import TrioConnection
from ._sync import spawn_background
from ._tls import ssl_stream

__all__ = ["TrioListener"]

# Out of descriptors or memory: back off instead of spinning, as trio's listeners do.
_RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})
# The pending connection died before we accepted it: just take the next one.
_TRANSIENT_ERRORS = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.EPERM})


class TrioListener(BaseListener):
    __slots__ = ("_done", "_factory", "_handshake_timeout", "_scopes", "_ssl")

    def __init__(
        self,
        handler_factory: HandlerFactory,
        sockets: list[socket.socket],
        *,
        ssl: _ssl.SSLContext | None,
        handshake_timeout: float = 60.0,
        unix: bool = False,
    ) -> None:
        super().__init__(sockets, unix_socket_files(sockets) if unix else [])
        self._factory = handler_factory
        self._ssl = ssl
        self._handshake_timeout = handshake_timeout
        self._scopes = [trio.CancelScope() for _ in sockets]
        self._done = [trio.Event() for _ in sockets]

    def start(self) -> None:
        for sock, scope, done in zip(self._sockets, self._scopes, self._done, strict=True):
            spawn_background(self._accept_loop, sock, scope, done, name=f"treadle accept {sock}")

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
                stream = ssl_stream(client, self._ssl, server_side=True)
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
        self._remove_unix_files()
        for done in self._done:
            await done.wait()
