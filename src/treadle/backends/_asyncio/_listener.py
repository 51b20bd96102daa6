"""asyncio listening sockets: one ``asyncio.Server`` per socket made by ``_sockets``."""

from __future__ import annotations

import asyncio
import socket

from .._listener import BaseListener

__all__ = ["AsyncioListener"]


class AsyncioListener(BaseListener):
    __slots__ = ("_servers",)

    def __init__(
        self,
        servers: list[asyncio.Server],
        sockets: list[socket.socket],
        unix_paths: list[tuple[str, int]],
    ) -> None:
        super().__init__(sockets, unix_paths)
        self._servers = servers

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for server in self._servers:
            server.close()
        self._remove_unix_files()
        # Not server.wait_closed(): from 3.12 on it also waits for open connections,
        # which belong to the upper layer. One loop turn lets uvloop release the handles.
        await asyncio.sleep(0)
