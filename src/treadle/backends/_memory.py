"""In-memory connections: two :class:`Connection` ends joined without a socket.

A test client can then talk to an application through the real protocol core with no
ports, no file descriptors and no kernel in between. Bytes written on one end are
delivered to the other end's handler on a later turn of the event loop, never inside
``write()``, so callback order is the one a socket gives: ``connection_made`` first,
``data_received`` in order, at most one ``eof_received``, exactly one
``connection_lost``, and nothing delivered while reading is paused.

Delivery is built on backend primitives, so one implementation serves asyncio, uvloop
and trio: a re-armable :class:`Timer` armed "now" where that is a plain loop callback
(asyncio), and on trio (where a timer's expiry is a cancellation) one task per end from
``backend.spawn``, parked on a backend :class:`Event` while there is nothing to deliver
-- measured 3-5x faster there.

Buffering model: what one end has written and the other end has not yet received is
the writer's write buffer (``get_write_buffer_size()``). It pauses ``drain()`` above the
high-water mark and resumes it at or below the low-water mark, like a transport whose
socket buffer is full. ``close()`` therefore completes (``connection_lost``) once the
peer has received everything, the same "flush, then close" as an asyncio transport.
``abort()`` drops what is unsent and the peer loses the connection with
``ConnectionResetError``; writes to a peer that has closed are dropped.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from ._connection import BaseConnection, logger, write_limits
from ._interface import (
    DEFAULT_HIGH_WATER,
    DEFAULT_LOW_WATER,
    Backend,
    ConnectionHandler,
    Event,
    HandlerFactory,
    SocketLike,
    TaskHandle,
    Timer,
    TLSInfo,
)

__all__ = ["MemoryConnection", "MemoryListener", "memory_connection_pair"]

#: Largest chunk handed to ``data_received`` at once, like one socket read.
READ_SIZE = 64 * 1024

_ports = itertools.count(1)


class MemoryConnection(BaseConnection):
    """One end of an in-memory byte stream; satisfies :class:`treadle.backends.Connection`.

    Obtain a pair with :func:`memory_connection_pair` or :meth:`MemoryListener.connect`.
    ``socket`` and ``ssl_object`` are None; addresses are fake ``("memory", n)`` tuples
    unless given.
    """

    __slots__ = (
        "_aborted",
        "_armed",
        "_backend",
        "_closed_event",
        "_drain_event",
        "_eof_sent",
        "_high",
        "_inbox",
        "_inbox_eof",
        "_low",
        "_peer",
        "_pump",
        "_read_eof",
        "_reset",
        "_timer",
        "_wakeup",
        "_write_paused",
    )

    def __init__(self, backend: Backend, peername: Any, sockname: Any) -> None:
        super().__init__(None, peername, sockname)
        self._backend = backend
        self._peer: MemoryConnection | None = None
        self._inbox = bytearray()  # written by the peer, not yet delivered here
        self._inbox_eof = False  # the peer's EOF, delivered after the inbox
        self._read_eof = False
        self._eof_sent = False
        self._aborted = False
        self._reset = False  # the peer aborted: lose the connection with an error
        self._high = DEFAULT_HIGH_WATER
        self._low = DEFAULT_LOW_WATER
        self._write_paused = False
        self._drain_event: Event | None = None
        self._closed_event = backend.create_event()
        self._armed = False
        self._wakeup: Event | None = None
        self._pump: TaskHandle | None = None
        self._timer: Timer | None = None
        if backend.name != "trio":
            self._timer = backend.create_timer(self._tick)

    # -- scheduling -------------------------------------------------------------------

    def _schedule(self) -> None:
        """Run :meth:`_tick` on a later loop turn (once, however often it is asked)."""
        if not self._armed and not self._lost:
            self._armed = True
            if self._timer is not None:
                self._timer.arm(self._backend.current_time())
            elif self._pump is None:
                self._pump = self._backend.spawn(self._run, name=f"treadle {self!r}")
            else:
                self._wake()

    def _wake(self) -> None:
        event = self._wakeup
        if event is not None:
            self._wakeup = None
            event.set()

    async def _run(self) -> None:
        """The end's delivery task: one :meth:`_tick` per wake-up, until lost."""
        backend = self._backend
        while not self._lost:
            if not self._armed:
                event = self._wakeup = backend.create_event()
                await event.wait()
                continue
            self._tick()
            if self._armed:
                await backend.checkpoint()  # one chunk per loop turn, like a socket read

    def _tick(self) -> None:
        self._armed = False
        if self._lost:
            return
        if self._aborted or self._reset:
            if self._reset and self._exc is None:
                self._exc = ConnectionResetError("Connection reset by peer")
            self._finish()
        elif self._closing:
            if self._flushed():
                self._finish()
        elif self._reading and self._started:
            self._deliver()

    def _deliver(self) -> None:
        inbox = self._inbox
        if inbox:
            data = bytes(inbox[:READ_SIZE])
            del inbox[:READ_SIZE]
            peer = self._peer
            if peer is not None:
                peer._progressed()
            try:
                self._handler.data_received(data)
            except Exception as exc:
                self._handler_failed(exc, "data_received")
                return
            if (inbox or self._inbox_eof) and self._reading and not self._closing:
                self._schedule()
        elif self._inbox_eof and not self._read_eof:
            self._read_eof = True
            try:
                self._handler.eof_received()
            except Exception as exc:
                self._handler_failed(exc, "eof_received")

    def _flushed(self) -> bool:
        peer = self._peer
        return peer is None or peer._lost or peer._closing or not peer._inbox

    def _progressed(self) -> None:
        """The peer took some of what this end wrote: resume writers, finish a close."""
        if self._write_paused and self._peer is not None and len(self._peer._inbox) <= self._low:
            self._write_paused = False
            self._wake_drain()
        if self._closing and self._flushed():
            self._schedule()

    def _wake_drain(self) -> None:
        event = self._drain_event
        if event is not None:
            self._drain_event = None
            event.set()

    def _finish(self) -> None:
        self._lost = True
        self._closing = True
        self._inbox.clear()
        if self._timer is not None:
            self._timer.close()
        self._wake()  # the delivery task ends
        self._wake_drain()
        self._closed_event.set()
        peer = self._peer
        if peer is not None and not peer._lost:
            peer._progressed()  # a peer closing towards us is flushed now
        self._tell_lost()

    def _start(self, handler: ConnectionHandler) -> None:
        self._handler = handler
        self._started = True
        handler.connection_made(self)
        self._schedule()  # anything written to us meanwhile

    # -- writing ----------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or not data:
            return
        if self._eof_sent:
            raise RuntimeError("Cannot call write() after write_eof()")
        peer = self._peer
        if peer is None or peer._closing:
            # The peer closed and reads no more: the bytes are dropped (no reset, so that
            # a reply it sent before closing is still delivered here, as with a server
            # that closes gracefully).
            return
        peer._inbox += data
        if len(peer._inbox) > self._high:
            self._write_paused = True
        if peer._reading:
            peer._schedule()

    def writelines(self, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        self.write(b"".join(chunks))

    async def drain(self) -> None:
        while self._write_paused and not self._lost:
            event = self._drain_event
            if event is None:
                event = self._drain_event = self._backend.create_event()
            await event.wait()
        if self._lost:
            raise ConnectionResetError("Connection lost") from self._exc

    def get_write_buffer_size(self) -> int:
        peer = self._peer
        return 0 if peer is None or self._lost else len(peer._inbox)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        high, low = write_limits(high, low)
        self._high, self._low = high, low
        size = self.get_write_buffer_size()
        if size > high:
            self._write_paused = True
        elif self._write_paused and size <= low:
            self._write_paused = False
            self._wake_drain()

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        if self._closing or self._eof_sent:
            return
        self._send_eof()

    def _send_eof(self) -> None:
        self._eof_sent = True
        peer = self._peer
        if peer is not None and not peer._lost:
            peer._inbox_eof = True
            if peer._reading:
                peer._schedule()

    # -- closing ----------------------------------------------------------------------

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._inbox:  # unread input is dropped, as a closed socket drops it
            self._inbox.clear()
            if self._peer is not None:
                self._peer._progressed()
        if not self._eof_sent:
            self._send_eof()
        self._schedule()

    def abort(self) -> None:
        if self._lost or self._aborted:
            return
        self._aborted = True
        self._closing = True
        self._inbox.clear()
        peer = self._peer
        if peer is not None and not peer._lost:
            peer._inbox.clear()  # our unsent data is discarded
            peer._inbox_eof = False
            if not peer._closing:
                peer._reset = True
            peer._schedule()
        self._schedule()

    async def wait_closed(self) -> None:
        if not self._lost:
            await self._closed_event.wait()

    # -- reading control and introspection ------------------------------------------

    def pause_reading(self) -> None:
        self._reading = False

    def resume_reading(self) -> None:
        if not self._reading:
            self._reading = True
            if self._inbox or (self._inbox_eof and not self._read_eof):
                self._schedule()

    @property
    def socket(self) -> SocketLike | None:
        return None

    @property
    def ssl_object(self) -> TLSInfo | None:
        return None


def _resolve(backend: Backend | None) -> Backend:
    if backend is not None:
        return backend
    from ._detect import get_backend

    return get_backend()


def _pair(backend: Backend, server_address: Any) -> tuple[MemoryConnection, MemoryConnection]:
    client_address = ("memory", next(_ports))
    client = MemoryConnection(backend, server_address, client_address)
    server = MemoryConnection(backend, client_address, server_address)
    client._peer, server._peer = server, client
    return client, server


def memory_connection_pair(
    client_handler: ConnectionHandler,
    server_handler: ConnectionHandler,
    *,
    backend: Backend | None = None,
) -> tuple[MemoryConnection, MemoryConnection]:
    """Join two handlers with an in-memory stream; returns ``(client_conn, server_conn)``.

    Both handlers see ``connection_made`` before this returns (server first). Must be
    called with an event loop running (the backend is detected when not given).
    """
    backend = _resolve(backend)
    client, server = _pair(backend, ("memory", next(_ports)))
    server._start(server_handler)
    client._start(client_handler)
    return client, server


class MemoryListener:
    """A :class:`treadle.backends.Listener` without sockets; :meth:`connect` dials it.

    Each ``connect`` creates a server handler with ``handler_factory`` (as a real
    listener does on accept) joined to the caller's handler.
    """

    __slots__ = ("_address", "_backend", "_closed", "_factory")

    def __init__(
        self,
        handler_factory: HandlerFactory,
        *,
        backend: Backend | None = None,
        address: Any = None,
    ) -> None:
        self._factory = handler_factory
        self._backend = backend
        self._address = address if address is not None else ("memory", next(_ports))
        self._closed = False

    @property
    def addresses(self) -> list[Any]:
        return [self._address]

    @property
    def sockets(self) -> list[SocketLike]:
        return []

    async def connect(self, handler: ConnectionHandler) -> MemoryConnection:
        """Open a connection to this listener; ``handler`` is its client side."""
        if self._closed:
            raise ConnectionRefusedError(f"memory listener {self._address!r} is closed")
        backend = _resolve(self._backend)
        await backend.checkpoint()
        client, server = _pair(backend, self._address)
        try:
            server._start(self._factory())
        except Exception:
            logger.exception("connection handler failed in connection_made; aborting")
            server._started = False
            server.abort()
        client._start(handler)
        return client

    async def aclose(self) -> None:
        """Refuse further connections (open ones stay, as with a socket listener)."""
        self._closed = True

    async def __aenter__(self) -> MemoryListener:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
