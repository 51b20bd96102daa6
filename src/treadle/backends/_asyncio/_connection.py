"""asyncio (and uvloop) connection: an ``asyncio.Protocol`` that is also a treadle Connection.

The transport calls this object's protocol methods, which call the handler directly:
``data_received`` is one extra Python call, no task and no queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import cast

from .._connection import BaseConnection, logger
from .._interface import ConnectionHandler, HandlerFactory, SocketLike, TLSInfo

__all__ = ["AsyncioConnection"]


class AsyncioConnection(BaseConnection, asyncio.Protocol):
    """Protocol-side adapter and :class:`treadle.backends.Connection` in one object.

    Client connections are created *deferred*: reading is paused as soon as the transport
    exists and the handler only sees ``connection_made`` once ``connect_*`` has finished
    its checks (certificate pinning), so a rejected peer never reaches the handler.
    """

    __slots__ = (
        "_closed_waiters",
        "_deferred",
        "_drain_waiters",
        "_factory",
        "_loop",
        "_tls",
        "_transport",
        "_write_paused",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        handler: ConnectionHandler | None = None,
        factory: HandlerFactory | None = None,
    ) -> None:
        super().__init__(handler)  # addresses are known in connection_made
        self._loop = loop
        self._factory = factory
        self._deferred = handler is not None
        self._transport: asyncio.Transport | None = None
        self._tls = False
        self._write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._closed_waiters: list[asyncio.Future[None]] = []

    # -- asyncio.Protocol side -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only look-alikes.
        transport = cast(asyncio.Transport, transport)
        self._transport = transport
        self._tls = transport.get_extra_info("ssl_object") is not None
        self._peername = transport.get_extra_info("peername")
        self._sockname = transport.get_extra_info("sockname")
        if self._deferred:
            transport.pause_reading()
            return
        try:
            assert self._factory is not None
            self._handler = self._factory()
            self.start()
        except Exception:
            logger.exception("connection handler failed in connection_made; aborting")
            self._started = False
            transport.abort()

    def data_received(self, data: bytes) -> None:
        try:
            self._handler.data_received(data)
        except Exception as exc:
            self._handler_failed(exc, "data_received")

    def eof_received(self) -> bool:
        try:
            self._handler.eof_received()
        except Exception as exc:
            self._handler_failed(exc, "eof_received")
            return True
        # Plain sockets stay half-open until the handler closes; TLS transports close
        # themselves anyway (returning True would only log a warning).
        return not self._tls

    def connection_lost(self, exc: BaseException | None) -> None:
        self._lost = True
        self._closing = True
        if self._exc is None:  # the first error wins, as in _fail() and on trio
            self._exc = exc
        exc = self._exc
        for waiters in (self._drain_waiters, self._closed_waiters):
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)
        if self._started:
            self._started = False
            self._handler.connection_lost(exc)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        for fut in self._drain_waiters:
            if not fut.done():
                fut.set_result(None)

    # -- start-up (client connections) ----------------------------------------------

    def start(self) -> None:
        """Hand the connection to the handler and start reading."""
        self._started = True
        self._handler.connection_made(self)
        if self._deferred and self._reading and not self._closing:
            assert self._transport is not None
            self._transport.resume_reading()

    # -- Connection side ------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._closing:
            self._transport.write(data)  # type: ignore[union-attr]

    def writelines(self, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        if not self._closing:
            self._transport.writelines(chunks)  # type: ignore[union-attr]

    async def drain(self) -> None:
        if self._lost:
            raise ConnectionResetError("Connection lost") from self._exc
        if not self._write_paused:
            return
        fut: asyncio.Future[None] = self._loop.create_future()
        self._drain_waiters.append(fut)
        try:
            await fut
        finally:
            self._drain_waiters.remove(fut)
        if self._lost:
            raise ConnectionResetError("Connection lost") from self._exc

    def get_write_buffer_size(self) -> int:
        return 0 if self._transport is None else self._transport.get_write_buffer_size()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        assert self._transport is not None
        self._transport.set_write_buffer_limits(high, low)

    def can_write_eof(self) -> bool:
        return self._transport is not None and not self._tls and self._transport.can_write_eof()

    def write_eof(self) -> None:
        if self._tls:
            raise NotImplementedError("TLS connections cannot be half-closed; use close()")
        if not self._closing:
            self._transport.write_eof()  # type: ignore[union-attr]

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._transport.close()  # type: ignore[union-attr]

    def abort(self) -> None:
        if not self._lost and self._transport is not None:
            self._closing = True
            self._transport.abort()

    async def wait_closed(self) -> None:
        if self._lost:
            return
        fut: asyncio.Future[None] = self._loop.create_future()
        self._closed_waiters.append(fut)
        try:
            await fut
        finally:
            self._closed_waiters.remove(fut)

    def pause_reading(self) -> None:
        if self._reading:
            self._reading = False
            if self._started and not self._closing:
                self._transport.pause_reading()  # type: ignore[union-attr]

    def resume_reading(self) -> None:
        if not self._reading:
            self._reading = True
            if self._started and not self._closing:
                self._transport.resume_reading()  # type: ignore[union-attr]

    @property
    def socket(self) -> SocketLike | None:
        if self._transport is None:
            return None
        sock: SocketLike | None = self._transport.get_extra_info("socket")
        return sock

    @property
    def ssl_object(self) -> TLSInfo | None:
        if self._transport is None:
            return None
        obj: TLSInfo | None = self._transport.get_extra_info("ssl_object")
        return obj

    @property
    def transport(self) -> asyncio.Transport | None:
        """The underlying asyncio transport (for asyncio-only integrations)."""
        return self._transport
