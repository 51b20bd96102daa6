"""The connection pool behind every connector: slots, waiting, reuse, keep-alive, closing.

``connect(key)`` takes a pool slot (waiting in line when ``limit``/``limit_per_host``
are reached), reuses an idle keep-alive connection of the same key or asks the subclass
to open a new one (``_open``), and returns a :class:`ConnectorExchange`. The pool's
bookkeeping is synchronous (``_pool.py``); every await here is wrapped so that a failure
or a cancellation at any point gives back the slot and closes a half-made connection.

``ClientTimeout.connect`` bounds the whole of ``connect()`` including the wait for a
slot (``ConnectionTimeoutError``); ``sock_read`` is handed to the exchange.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from ..backends import get_backend
from ..protocol import Limits
from ._exceptions import ClientConnectionError, ConnectionTimeoutError
from ._exchange import DEFAULT_READ_BUFSIZE, ConnectorExchange, PooledConnection
from ._interfaces import ConnectionKey
from ._pool import Pool
from ._timeout import ClientTimeout

if TYPE_CHECKING:
    from ..backends import Backend, Timer

__all__ = ["DEFAULT", "BaseConnector", "ProxyHeaders"]

#: Extra headers of a proxy's CONNECT request: a mapping or (name, value) pairs.
ProxyHeaders = Mapping[str, str] | Iterable[tuple[str, str]] | None


class _Sentinel:
    def __repr__(self) -> str:
        return "<default>"


DEFAULT: Final[Any] = _Sentinel()


class _Closed:
    """What ``close()`` returns: closing is immediate, awaiting it is optional.

    aiohttp 3.x code writes ``await connector.close()``; older code calls it without
    ``await``. Both work, and neither leaves a never-awaited coroutine behind.
    """

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # pragma: no cover - makes this a generator


class BaseConnector:
    """The pool and its limits; subclasses say how to open a connection.

    ``limit`` caps connections in use in total (0: no cap), ``limit_per_host`` per
    connection key. Idle keep-alive connections are closed after ``keepalive_timeout``
    seconds (15 by default; ``None``: kept until the server closes them).
    ``force_close`` closes every connection after its response.
    """

    def __init__(
        self,
        *,
        keepalive_timeout: float | Any | None = DEFAULT,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: Any = None,
        timeout_ceil_threshold: float = 5,
    ) -> None:
        if force_close:
            if keepalive_timeout is not None and keepalive_timeout is not DEFAULT:
                raise ValueError("keepalive_timeout cannot be set if force_close is True")
            keepalive_timeout = None
        elif keepalive_timeout is DEFAULT:
            keepalive_timeout = 15.0
        self._keepalive_timeout: float | None = keepalive_timeout
        self._force_close = force_close
        self._pool: Pool[ConnectionKey, PooledConnection] = Pool(limit, limit_per_host)
        self._connections: set[PooledConnection] = set()
        self._closed = False
        self._cleanup_timer: Timer | None = None
        self._cleanup_backend: Backend | None = None
        # Accepted for aiohttp compatibility: TLS connections are aborted on close
        # (nothing lingers to clean up) and deadlines are not rounded.
        self._cleanup_closed = enable_cleanup_closed
        self._timeout_ceil_threshold = timeout_ceil_threshold
        self._backend: Backend | None = None

    @property
    def backend(self) -> Backend:
        """The backend of the async library this connector runs on (the first user's).

        Found once (sniffio) and kept: a connector's sockets belong to one event loop,
        and a look-up per request is measurable on the hot path.
        """
        backend = self._backend
        if backend is None:
            backend = self._backend = get_backend()
        return backend

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} limit={self.limit} limit_per_host={self.limit_per_host}"
            f" in_use={self._pool.in_use} idle={self._pool.idle_count}"
            f"{' closed' if self._closed else ''}>"
        )

    # -- properties ------------------------------------------------------------------

    @property
    def limit(self) -> int:
        """The most connections in use at once (0: no limit)."""
        return self._pool.limit

    @property
    def limit_per_host(self) -> int:
        """The most connections in use at once per (host, port, ssl) key (0: no limit)."""
        return self._pool.limit_per_host

    @property
    def force_close(self) -> bool:
        return self._force_close

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def keepalive_timeout(self) -> float | None:
        return self._keepalive_timeout

    # -- getting a connection ------------------------------------------------------------

    async def connect(
        self,
        key: ConnectionKey,
        *,
        traces: Sequence[Any] = (),
        timeout: ClientTimeout | None = None,
        read_bufsize: int = DEFAULT_READ_BUFSIZE,
        limits: Limits | None = None,
        proxy_headers: ProxyHeaders = None,
        proxy_auth: Any = None,
        deadline: float | None = None,
    ) -> ConnectorExchange:
        """A connection for ``key``, as an exchange ready for one request.

        ``limits`` applies to a newly opened connection's response parsing;
        ``proxy_headers``/``proxy_auth`` go on a proxy's ``CONNECT`` request;
        ``deadline`` (``ClientTimeout.total``) bounds the exchange's head and body.
        """
        if self._closed:
            raise ClientConnectionError("Connector is closed.")
        backend = self._backend or self.backend
        connect_timeout = timeout.connect if timeout is not None else None
        sock_read = timeout.sock_read if timeout is not None else None
        if not connect_timeout:
            conn = await self._get(key, traces, timeout, backend, limits, proxy_headers, proxy_auth)
        else:
            scope = backend.fail_after(connect_timeout)
            try:
                with scope:
                    conn = await self._get(
                        key, traces, timeout, backend, limits, proxy_headers, proxy_auth
                    )
            except TimeoutError as exc:
                if isinstance(exc, ConnectionTimeoutError) or not scope.expired:
                    raise
                raise ConnectionTimeoutError(
                    f"Connection timeout to host {key.host}:{key.port} "
                    f"(ClientTimeout.connect={connect_timeout})"
                ) from exc
        try:
            return ConnectorExchange(conn, sock_read, read_bufsize, deadline)
        except BaseException:  # pragma: no cover - nothing in there awaits or should fail
            conn.finish(False)
            raise

    def take_idle_now(
        self,
        key: ConnectionKey,
        timeout: ClientTimeout,
        read_bufsize: int,
        deadline: float | None,
    ) -> ConnectorExchange | None:
        """An exchange on an idle keep-alive connection of ``key`` if one can be had
        without waiting (a free slot, nobody in line), else None; nothing awaits.

        The hot path of a busy session: no traces are sent (callers with traces use
        ``connect``), and ``deadline`` is enforced by the connection's own timer.
        """
        pool = self._pool
        if self._closed or not pool.has_idle(key) or not pool.try_acquire(key):
            return None
        conn = self._take_idle(key, self._backend or self.backend)
        if conn is None:
            pool.release(key)
            return None
        return ConnectorExchange(conn, timeout.sock_read, read_bufsize, deadline)

    async def _get(
        self,
        key: ConnectionKey,
        traces: Sequence[Any],
        timeout: ClientTimeout | None,
        backend: Backend,
        limits: Limits | None,
        proxy_headers: ProxyHeaders,
        proxy_auth: Any,
    ) -> PooledConnection:
        """Take a slot, then an idle connection or a new one; the slot is ours on return."""
        pool = self._pool
        if not pool.try_acquire(key):
            await self._wait_for_slot(key, traces, backend)
        conn = self._take_idle(key, backend)
        if conn is not None:
            try:
                for trace in traces:
                    await trace.send_connection_reuseconn()
            except BaseException:
                # Untouched: back to the pool (freeing the slot) rather than closed.
                self._release(conn, conn.usable)
                raise
            return conn
        try:
            self._make_room()
            for trace in traces:
                await trace.send_connection_create_start()
            conn = PooledConnection(backend, key, self._release, self._idle_lost, limits)
            await self._open(conn, key, traces, timeout, backend, proxy_headers, proxy_auth)
            self._connections.add(conn)
            for trace in traces:
                await trace.send_connection_create_end()
            if self._closed:
                raise ClientConnectionError("Connector is closed.")
            return conn
        except BaseException:
            if conn is not None:
                conn.broken = True
                if conn.conn is not None:
                    conn.conn.abort()
                self._connections.discard(conn)
            pool.release(key)
            raise

    async def _wait_for_slot(
        self, key: ConnectionKey, traces: Sequence[Any], backend: Backend
    ) -> None:
        pool = self._pool
        event = backend.create_event()
        waiter = pool.enqueue(key, event.set)
        try:
            for trace in traces:
                await trace.send_connection_queued_start()
            await event.wait()
            if not waiter.granted:
                raise ClientConnectionError("Connector is closed.")
            for trace in traces:
                await trace.send_connection_queued_end()
        except BaseException:
            pool.cancel_waiter(waiter)  # gives the slot back if it was granted
            raise

    def _take_idle(self, key: ConnectionKey, backend: Backend) -> PooledConnection | None:
        pool = self._pool
        if not pool.idle_count:
            return None
        conn, stale = pool.take_idle(key, backend.current_time())
        for old in stale:
            self._discard(old)
        if conn is not None:
            conn.idle = False
        return conn

    def _make_room(self) -> None:
        """Keep open sockets (in use + idle) within ``limit`` by closing the oldest idle."""
        pool = self._pool
        limit = pool.limit
        while limit and pool.idle_count and pool.in_use + pool.idle_count > limit:
            old = pool.pop_oldest_idle()
            if old is None:
                break
            self._discard(old)

    def _discard(self, conn: PooledConnection) -> None:
        conn.idle = False
        conn.broken = True
        self._connections.discard(conn)
        if conn.conn is not None and not conn.lost:
            conn.conn.close()

    async def _open(
        self,
        conn: PooledConnection,
        key: ConnectionKey,
        traces: Sequence[Any],
        timeout: ClientTimeout | None,
        backend: Backend,
        proxy_headers: ProxyHeaders,
        proxy_auth: Any,
    ) -> None:
        """Open the socket for ``conn`` (``conn.connection_made`` runs on success)."""
        raise NotImplementedError

    # -- giving connections back ---------------------------------------------------------

    def _release(self, conn: PooledConnection, reusable: bool) -> None:
        """Called by the exchange at its end: park the connection or forget it."""
        pool = self._pool
        if (
            reusable
            and not self._closed
            and not self._force_close
            and self._keepalive_timeout != 0
            and conn.conn is not None
        ):
            keepalive = self._keepalive_timeout
            conn.idle = True
            if keepalive is None:
                expires = conn.expires = float("inf")
            else:
                backend = conn.backend
                expires = conn.expires = backend.current_time() + keepalive
                timer = self._cleanup_timer
                if timer is None or timer.deadline is None:
                    self._schedule_cleanup(backend, keepalive)
            conn.conn.resume_reading()  # notice the server closing while idle
            pool.put_idle(conn.key, conn, expires)
        else:
            self._connections.discard(conn)
        pool.release(conn.key)

    def _idle_lost(self, conn: PooledConnection) -> None:
        """An idle connection was closed by the server (or timed out)."""
        self._pool.remove_idle(conn.key, conn)
        conn.idle = False
        self._connections.discard(conn)

    def _schedule_cleanup(self, backend: Backend, delay: float) -> None:
        timer = self._cleanup_timer
        if timer is None:
            self._cleanup_backend = backend
            timer = self._cleanup_timer = backend.create_timer(self._cleanup)
        if timer.deadline is None:
            timer.arm_after(delay)

    def _cleanup(self) -> None:
        """Close idle connections past their keep-alive time (the timer's callback)."""
        pool = self._pool
        timer = self._cleanup_timer
        if timer is None or self._closed or self._cleanup_backend is None:
            return
        for old in pool.pop_expired(self._cleanup_backend.current_time()):
            self._discard(old)
        if pool.idle_count and self._keepalive_timeout is not None:
            timer.arm_after(self._keepalive_timeout / 2)

    # -- closing -----------------------------------------------------------------------

    def close(self) -> Awaitable[None]:
        """Close every connection, idle or in use; waiting requests get an error."""
        if not self._closed:
            self._closed = True
            if self._cleanup_timer is not None:
                self._cleanup_timer.close()
                self._cleanup_timer = None
            self._pool.pop_all_idle()
            for conn in list(self._connections):
                conn.broken = True
                conn.idle = False
                if conn.conn is not None:
                    conn.conn.abort()
            self._connections.clear()
            self._pool.wake_all_waiters()
        return _Closed()

    def __del__(self, _warnings: Any = warnings) -> None:
        # As aiohttp: a connector dropped with open sockets is a resource leak to report.
        if getattr(self, "_closed", True) or not self._connections:
            return
        _warnings.warn(f"Unclosed connector {self!r}", ResourceWarning, source=self)

    async def __aenter__(self) -> BaseConnector:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
