"""What every backend's listener shares: the sockets, their addresses, socket files."""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Any, Self

from ._interface import SocketLike
from ._sockets import remove_unix_socket

__all__ = ["BaseListener"]


class BaseListener:
    """State and accessors common to :class:`treadle.backends.Listener` implementations.

    ``unix_paths`` are the ``(path, inode)`` socket files to remove on close.
    """

    __slots__ = ("_addresses", "_closed", "_sockets", "_unix_paths")

    def __init__(self, sockets: list[socket.socket], unix_paths: list[tuple[str, int]]) -> None:
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

    def _remove_unix_files(self) -> None:
        for path, inode in self._unix_paths:
            remove_unix_socket(path, inode)

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
