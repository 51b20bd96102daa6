"""The backend interface that client/ and server/ program against.

Everything here is a ``typing.Protocol``: the asyncio and trio implementations satisfy
them structurally, and upper layers never see an asyncio or trio type.

The connection model is callback-in (like ``asyncio.Protocol``): the upper layer hands a
:class:`ConnectionHandler` to the backend, which calls ``data_received`` with every chunk
read from the socket, so bytes go straight into a sans-IO parser with no task switch or
queue on the hot path. Writing is synchronous (``conn.write``); ``await conn.drain()``
applies backpressure.
"""

from __future__ import annotations

import socket
import ssl as _ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import IO, Any, Protocol, TypeVar

__all__ = [
    "DEFAULT_HIGH_WATER",
    "DEFAULT_LOW_WATER",
    "AbstractResolver",
    "AddrInfo",
    "Backend",
    "Connection",
    "ConnectionHandler",
    "DeadlineScope",
    "Event",
    "HandlerFactory",
    "Listener",
    "Lock",
    "PeerVerifier",
    "Semaphore",
    "SocketLike",
    "TLSInfo",
    "TaskGroup",
    "TaskHandle",
    "Timer",
]

T = TypeVar("T")

#: ``(family, type, proto, canonname, sockaddr)`` as returned by ``socket.getaddrinfo``.
AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]

#: Write-buffer high/low water marks (bytes), the same defaults as asyncio transports.
DEFAULT_HIGH_WATER = 64 * 1024
DEFAULT_LOW_WATER = 16 * 1024


class TLSInfo(Protocol):
    """The subset of ``ssl.SSLObject`` available on every backend after the handshake."""

    def getpeercert(self, binary_form: bool = False) -> Any: ...
    def cipher(self) -> tuple[str, str, int] | None: ...
    def version(self) -> str | None: ...
    def selected_alpn_protocol(self) -> str | None: ...


class SocketLike(Protocol):
    """The subset of a socket a connection exposes (for socket options and addresses)."""

    @property
    def family(self) -> int: ...
    @property
    def type(self) -> int: ...
    def fileno(self) -> int: ...
    def getsockname(self) -> Any: ...
    def getpeername(self) -> Any: ...
    def getsockopt(self, level: int, optname: int, /) -> int: ...


class PeerVerifier(Protocol):
    """Hook run on the TLS session after the handshake, before the handler sees it.

    Raise to reject the peer (the connection is aborted and the error propagates out of
    ``connect_*``). :class:`treadle.backends.Fingerprint` is one.
    """

    def check(self, ssl_object: TLSInfo) -> None: ...


class ConnectionHandler(Protocol):
    """What the upper layer implements: callbacks in, like ``asyncio.Protocol``.

    Callbacks are synchronous and run on the event loop (asyncio) or in the connection's
    reader task (trio); they must not block. ``connection_made`` comes first, then any
    number of ``data_received``, at most one ``eof_received``, and exactly one
    ``connection_lost`` once the socket is closed (``exc`` is None after a clean close or
    ``abort()``, the error otherwise).

    After ``eof_received`` a plain TCP/Unix connection stays open for writing (half-close)
    until the handler calls ``close()``; a TLS connection is closed by the backend.
    """

    def connection_made(self, conn: Connection) -> None: ...
    def data_received(self, data: bytes) -> None: ...
    def eof_received(self) -> None: ...
    def connection_lost(self, exc: BaseException | None) -> None: ...


HandlerFactory = Callable[[], ConnectionHandler]


class Connection(Protocol):
    """One established byte stream (TCP, Unix, optionally TLS) driving a handler.

    Writes are buffered synchronously; ``drain()`` waits while the buffer is above the
    high-water mark, so a slow peer bounds the writer's memory. Writes after ``close()``,
    ``abort()`` or connection loss are discarded (as asyncio does); ``drain()`` raises
    ``ConnectionResetError`` once the connection is lost.
    """

    @property
    def handler(self) -> ConnectionHandler: ...
    def set_handler(self, handler: ConnectionHandler) -> None:
        """Route further callbacks to another handler (protocol upgrade)."""
        ...

    def write(self, data: bytes | bytearray | memoryview) -> None: ...
    def writelines(self, chunks: Iterable[bytes | bytearray | memoryview]) -> None: ...
    async def drain(self) -> None: ...
    def get_write_buffer_size(self) -> int: ...
    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None: ...
    def can_write_eof(self) -> bool: ...
    def write_eof(self) -> None: ...
    def close(self) -> None:
        """Stop reading, flush what is buffered, then close."""
        ...

    def abort(self) -> None:
        """Close now, discarding buffered data."""
        ...

    def is_closing(self) -> bool: ...
    async def wait_closed(self) -> None:
        """Wait until the socket is closed and ``connection_lost`` has run."""
        ...

    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def is_reading(self) -> bool: ...
    @property
    def peername(self) -> Any: ...
    @property
    def sockname(self) -> Any: ...
    @property
    def socket(self) -> SocketLike | None: ...
    @property
    def ssl_object(self) -> TLSInfo | None:
        """TLS session (peer certificate, cipher, ALPN), None for plain connections."""
        ...


class Listener(Protocol):
    """Listening sockets accepting connections until ``aclose()``."""

    @property
    def addresses(self) -> list[Any]:
        """Bound address of every listening socket (the real port when port 0 was asked)."""
        ...

    @property
    def sockets(self) -> list[SocketLike]: ...
    async def aclose(self) -> None:
        """Stop accepting and close the listening sockets (open connections stay)."""
        ...

    async def __aenter__(self) -> Listener: ...
    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class TaskGroup(Protocol):
    """Structured concurrency: ``async with`` waits for every task started in it.

    A failing task cancels the others and the group raises an ``ExceptionGroup``.
    ``start_soon`` may be called from synchronous callbacks (handlers) while the group
    is open.
    """

    def start_soon(
        self, func: Callable[..., Awaitable[object]], *args: object, name: str | None = None
    ) -> None: ...
    def cancel(self) -> None:
        """Cancel every task started in the group; the body itself keeps running."""
        ...

    async def __aenter__(self) -> TaskGroup: ...
    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...


class TaskHandle(Protocol):
    """A background task started by ``backend.spawn`` (not bound to any task group).

    Its errors are logged, never raised: whoever spawns it handles its own outcome.
    """

    def cancel(self) -> None: ...
    def done(self) -> bool: ...
    async def wait(self) -> None:
        """Wait until the task has finished; cancelling the waiter leaves the task running."""
        ...


class Event(Protocol):
    def set(self) -> None: ...
    def is_set(self) -> bool: ...
    async def wait(self) -> object: ...


class Lock(Protocol):
    async def acquire(self) -> object: ...
    def release(self) -> None: ...
    def locked(self) -> bool: ...
    async def __aenter__(self) -> object: ...
    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> object: ...


class Semaphore(Protocol):
    async def acquire(self) -> object: ...
    def release(self) -> None: ...
    async def __aenter__(self) -> object: ...
    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> object: ...


class DeadlineScope(Protocol):
    """``with backend.fail_at(deadline):`` raises ``TimeoutError`` when the deadline passes.

    The deadline can be moved (re-armed) while inside; None means no deadline. Only the
    scope's own expiry becomes ``TimeoutError``: an outer cancellation passes through.
    """

    @property
    def deadline(self) -> float | None: ...
    @deadline.setter
    def deadline(self, value: float | None) -> None: ...
    @property
    def expired(self) -> bool: ...
    def __enter__(self) -> DeadlineScope: ...
    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...


class Timer(Protocol):
    """A re-armable one-shot timer calling a synchronous callback on the event loop.

    Re-arming moves the deadline; it does not create a task or callback per call. Call
    ``close()`` when done (on trio it ends the timer's task).
    """

    @property
    def deadline(self) -> float | None: ...
    def arm(self, deadline: float) -> None: ...
    def arm_after(self, delay: float) -> None: ...
    def cancel(self) -> None: ...
    def close(self) -> None: ...


class AbstractResolver(Protocol):
    async def resolve(self, host: str, port: int, family: int = 0) -> list[AddrInfo]: ...


class Backend(Protocol):
    """Everything treadle needs from an async library; obtain with ``get_backend()``."""

    name: str

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
    ) -> Connection: ...
    async def connect_unix(
        self,
        handler: ConnectionHandler,
        path: str,
        *,
        ssl: _ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        verify_peer: PeerVerifier | None = None,
    ) -> Connection: ...
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
    ) -> Listener: ...
    async def serve_unix(
        self,
        handler_factory: HandlerFactory,
        path: str,
        *,
        ssl: _ssl.SSLContext | None = None,
        backlog: int = 100,
    ) -> Listener: ...
    async def serve_socket(
        self,
        handler_factory: HandlerFactory,
        sock: socket.socket,
        *,
        ssl: _ssl.SSLContext | None = None,
        backlog: int = 100,
    ) -> Listener: ...
    def task_group(self) -> TaskGroup: ...
    def create_event(self) -> Event: ...
    def create_lock(self) -> Lock: ...
    def create_semaphore(self, value: int) -> Semaphore: ...
    async def sleep(self, seconds: float) -> None: ...
    async def checkpoint(self) -> None: ...
    def current_time(self) -> float: ...
    def fail_at(self, deadline: float | None) -> DeadlineScope: ...
    def fail_after(self, seconds: float | None) -> DeadlineScope: ...
    def create_timer(self, callback: Callable[[], object]) -> Timer: ...
    def spawn(
        self, func: Callable[..., Awaitable[object]], *args: Any, name: str | None = None
    ) -> TaskHandle:
        """Start ``func(*args)`` now, from synchronous code, outliving the caller.

        For work that belongs to a connection rather than to a caller's scope (a server's
        request handlers): asyncio keeps a strong reference, trio runs a system task.
        """
        ...

    async def run_in_thread(self, func: Callable[..., T], *args: Any) -> T: ...
    async def getaddrinfo(
        self,
        host: str | None,
        port: int | str | None,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[AddrInfo]: ...
    async def sendfile(
        self, conn: Connection, file: IO[bytes], offset: int = 0, count: int | None = None
    ) -> int: ...
    async def start_tls(
        self,
        conn: Connection,
        ssl: _ssl.SSLContext,
        *,
        server_side: bool = False,
        server_hostname: str | None = None,
        verify_peer: PeerVerifier | None = None,
    ) -> Connection:
        """TLS over the established ``conn`` (after a proxy's CONNECT, or STARTTLS).

        Returns the TLS connection: write to it from then on; ``conn``'s handler keeps
        getting callbacks, with decrypted data, after a second ``connection_made`` with
        the TLS connection. ``conn`` is aborted if the handshake or ``verify_peer`` fails
        (or is cancelled).
        """
        ...

    def open_signal_receiver(
        self, *signals: int
    ) -> AbstractAsyncContextManager[AsyncIterator[int]]:
        """``async with backend.open_signal_receiver(SIGINT, SIGTERM) as signals:``.

        Inside, the signals are caught (no ``KeyboardInterrupt``) and ``async for signum in
        signals`` yields their numbers; on exit the previous handlers come back. Main
        thread only.
        """
        ...
