"""asyncio listening sockets: one ``asyncio.Server`` per socket made by ``_sockets``."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl as _ssl
from types import TracebackType
from typing import Any

from .._interface import HandlerFactory, SocketLike
from .._sockets import remove_unix_socket
from ._connection import AsyncioConnection

__all__ = ["AsyncioListener", "start_listener"]


class AsyncioListener:
    __slots__ = ("_addresses", "_closed", "_servers", "_sockets", "_unix_paths")

    def __init__(
        self,
        servers: list[asyncio.Server],
        sockets: list[socket.socket],
        unix_paths: list[tuple[str, int]],
    ) -> None:
        self._servers = servers
        self._sockets = sockets
        self._addresses = [s.getsockname() for s in sockets]
        self._unix_paths = unix_paths
        self._closed = False

    @property
    def addresses(self) -> list[Any]:
        return list(self._addresses)

    @property
    def sockets(self) -> list[SocketLike]:
        return list(self._sockets)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for server in self._servers:
            server.close()
        for path, inode in self._unix_paths:
            remove_unix_socket(path, inode)
        # Not server.wait_closed(): from 3.12 on it also waits for open connections,
        # which belong to the upper layer. One loop turn lets uvloop release the handles.
        await asyncio.sleep(0)

    async def __aenter__(self) -> AsyncioListener:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


async def start_listener(
    handler_factory: HandlerFactory,
    sockets: list[socket.socket],
    *,
    ssl: _ssl.SSLContext | None,
    backlog: int,
    unix: bool = False,
) -> AsyncioListener:
    """Serve on already bound sockets; closes them all if any fails to start."""
    loop = asyncio.get_running_loop()

    def factory() -> AsyncioConnection:
        return AsyncioConnection(loop, factory=handler_factory)

    servers: list[asyncio.Server] = []
    unix_paths: list[tuple[str, int]] = []
    try:
        for sock in sockets:
            if unix:
                path = sock.getsockname()
                if isinstance(path, str) and path and not path.startswith("\0"):
                    unix_paths.append((path, os.stat(path).st_ino))
            servers.append(await loop.create_server(factory, sock=sock, ssl=ssl, backlog=backlog))
    except BaseException:
        for server in servers:
            server.close()
        for sock in sockets:
            sock.close()
        raise
    return AsyncioListener(servers, sockets, unix_paths)
