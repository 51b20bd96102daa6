"""Connectors: where a request gets its connection (aiohttp's ``TCPConnector`` and friends).

``connect(key)`` takes a pool slot (waiting in line when ``limit``/``limit_per_host``
are reached), reuses an idle keep-alive connection of the same key or opens a new one
(DNS with a TTL cache, happy eyeballs, TLS, certificate pinning, proxies), and returns a
:class:`ConnectorExchange`. The pool's bookkeeping is synchronous (``_pool.py``); every
await here is wrapped so that a failure or a cancellation at any point gives back the
slot and closes a half-made connection.

Timeouts (``ClientTimeout``): ``connect`` bounds the whole of ``connect()`` including the
wait for a slot, ``sock_connect`` each connection attempt (TCP plus TLS handshake); both
raise ``ConnectionTimeoutError``. ``sock_read`` is handed to the exchange.
"""

from __future__ import annotations

import socket
import ssl as _ssl
import warnings
from collections.abc import Awaitable, Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from ..backends import Fingerprint, Resolver, get_backend
from ..backends import ServerFingerprintMismatch as _BackendFingerprintMismatch
from ..backends._resolver import numeric_addrinfo
from ..protocol import Limits
from ._exceptions import (
    ClientConnectionError,
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ConnectionTimeoutError,
    ServerFingerprintMismatch,
    UnixClientConnectorError,
)
from ._exchange import DEFAULT_READ_BUFSIZE, ConnectorExchange, PooledConnection
from ._interfaces import ConnectionKey
from ._pool import Pool
from ._timeout import ClientTimeout

if TYPE_CHECKING:
    from ..backends import AddrInfo, Backend, Connection, PeerVerifier, Timer

__all__ = ["BaseConnector", "TCPConnector", "UnixConnector"]

#: Extra headers of a proxy's CONNECT request: a mapping or (name, value) pairs.
ProxyHeaders = Mapping[str, str] | Iterable[tuple[str, str]] | None


class _Sentinel:
    def __repr__(self) -> str:
        return "<default>"


_DEFAULT: Final[Any] = _Sentinel()


class _Closed:
    """What ``close()`` returns: closing is immediate, awaiting it is optional.

    aiohttp 3.x code writes ``await connector.close()``; older code calls it without
    ``await``. Both work, and neither leaves a never-awaited coroutine behind.
    """

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # pragma: no cover - makes this a generator


class _Resolved:
    """Hands already resolved addresses to ``backend.connect_tcp``."""

    __slots__ = ("infos",)

    def __init__(self, infos: list[AddrInfo]) -> None:
        self.infos = infos

    async def resolve(self, host: str, port: int, family: int = 0) -> list[AddrInfo]:
        return self.infos


def _as_addrinfo(item: Any) -> AddrInfo:
    """Accept aiohttp-style resolver answers (dicts) as well as addrinfo tuples."""
    if isinstance(item, dict):
        family = item.get("family", socket.AF_INET)
        if family == socket.AF_INET6:
            addr: tuple[Any, ...] = (item["host"], item["port"], 0, 0)
        else:
            addr = (item["host"], item["port"])
        return (family, socket.SOCK_STREAM, item.get("proto", 0), "", addr)
    return tuple(item)


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
        keepalive_timeout: float | Any | None = _DEFAULT,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: Any = None,
        timeout_ceil_threshold: float = 5,
    ) -> None:
        if force_close:
            if keepalive_timeout is not None and keepalive_timeout is not _DEFAULT:
                raise ValueError("keepalive_timeout cannot be set if force_close is True")
            keepalive_timeout = None
        elif keepalive_timeout is _DEFAULT:
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
    ) -> ConnectorExchange:
        """A connection for ``key``, as an exchange ready for one request.

        ``limits`` applies to a newly opened connection's response parsing;
        ``proxy_headers``/``proxy_auth`` go on a proxy's ``CONNECT`` request.
        """
        if self._closed:
            raise ClientConnectionError("Connector is closed.")
        backend = get_backend()
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
            return ConnectorExchange(conn, sock_read, read_bufsize)
        except BaseException:  # pragma: no cover - nothing in there awaits or should fail
            conn.finish(False)
            raise

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
            now = conn.backend.current_time()
            conn.idle = True
            conn.expires = float("inf") if keepalive is None else now + keepalive
            conn.conn.resume_reading()  # notice the server closing while idle
            pool.put_idle(conn.key, conn, conn.expires)
            if keepalive is not None:
                self._schedule_cleanup(conn.backend, keepalive)
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


def _default_ssl_context() -> _ssl.SSLContext:
    return _ssl.create_default_context()


def _unverified_ssl_context() -> _ssl.SSLContext:
    ctx = _ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = _ssl.CERT_NONE
    return ctx


class TCPConnector(BaseConnector):
    """Connections over TCP, optionally TLS, optionally through an HTTP proxy.

    ``ssl``: ``True`` (verify against the system CAs), ``False`` (no verification), an
    ``ssl.SSLContext``, or a ``Fingerprint`` (pin the certificate's SHA-256). DNS answers
    are cached ``ttl_dns_cache`` seconds when ``use_dns_cache``; ``resolver`` may be any
    object with ``async resolve(host, port, family)``.
    """

    _verified_context: _ssl.SSLContext | None = None
    _unverified_context: _ssl.SSLContext | None = None

    def __init__(
        self,
        *,
        verify_ssl: bool = True,
        fingerprint: bytes | None = None,
        use_dns_cache: bool = True,
        ttl_dns_cache: float | None = 10,
        dns_cache_max_size: int = 1000,
        family: int = 0,
        ssl_context: _ssl.SSLContext | None = None,
        ssl: bool | Fingerprint | _ssl.SSLContext = True,
        local_addr: tuple[str, int] | None = None,
        resolver: Any = None,
        keepalive_timeout: float | Any | None = _DEFAULT,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: Any = None,
        timeout_ceil_threshold: float = 5,
        happy_eyeballs_delay: float | None = 0.25,
        interleave: int | None = None,
    ) -> None:
        super().__init__(
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            limit=limit,
            limit_per_host=limit_per_host,
            enable_cleanup_closed=enable_cleanup_closed,
            timeout_ceil_threshold=timeout_ceil_threshold,
        )
        self._ssl = _merge_ssl(ssl, verify_ssl, ssl_context, fingerprint)
        self._family = family
        self._local_addr = local_addr
        self._happy_eyeballs_delay = happy_eyeballs_delay
        self._interleave = interleave  # accepted; addresses always alternate families
        self._use_dns_cache = use_dns_cache
        lookup = None
        if resolver is not None:
            custom = resolver

            async def lookup(host: str, port: int, family: int) -> list[AddrInfo]:
                return [_as_addrinfo(item) for item in await custom.resolve(host, port, family)]

        ttl = ttl_dns_cache if use_dns_cache else None
        if use_dns_cache and ttl is None:
            ttl = float("inf")  # aiohttp: ttl_dns_cache=None caches forever
        self._resolver = Resolver(ttl, lookup=lookup, max_entries=dns_cache_max_size)

    @property
    def family(self) -> int:
        return self._family

    @property
    def use_dns_cache(self) -> bool:
        return self._use_dns_cache

    def clear_dns_cache(self, host: str | None = None, port: int | None = None) -> None:
        """Forget cached DNS answers (for ``host`` only when given)."""
        self._resolver.clear(host)

    # -- TLS -----------------------------------------------------------------------------

    def _tls_for(self, key: ConnectionKey) -> tuple[_ssl.SSLContext | None, PeerVerifier | None]:
        if not key.is_ssl:
            return None, None
        value = self._ssl if key.ssl is True else key.ssl
        if isinstance(value, _ssl.SSLContext):
            return value, None
        if isinstance(value, Fingerprint):
            return self._unverified(), value
        if value is False:
            return self._unverified(), None
        fingerprint = getattr(value, "fingerprint", None)
        if isinstance(fingerprint, bytes) and value is not True:
            # aiohttp.Fingerprint and look-alikes: pin the same digest.
            return self._unverified(), Fingerprint(fingerprint)
        return self._verified(), None

    @classmethod
    def _verified(cls) -> _ssl.SSLContext:
        if cls._verified_context is None:
            TCPConnector._verified_context = _default_ssl_context()
        assert TCPConnector._verified_context is not None
        return TCPConnector._verified_context

    @classmethod
    def _unverified(cls) -> _ssl.SSLContext:
        if cls._unverified_context is None:
            TCPConnector._unverified_context = _unverified_ssl_context()
        assert TCPConnector._unverified_context is not None
        return TCPConnector._unverified_context

    # -- DNS -----------------------------------------------------------------------------

    async def _resolve(
        self, key: ConnectionKey, host: str, port: int, traces: Sequence[Any]
    ) -> list[AddrInfo]:
        resolver = self._resolver
        family = self._family
        if not traces or numeric_addrinfo(host, port, family) is not None:
            try:
                return await resolver.resolve(host, port, family)
            except OSError as exc:
                raise ClientConnectorDNSError(key, exc) from exc
        cached = self._use_dns_cache and resolver.is_cached(host, port, family)
        if cached:
            for trace in traces:
                await trace.send_dns_cache_hit(host)
        else:
            if self._use_dns_cache:
                for trace in traces:
                    await trace.send_dns_cache_miss(host)
            for trace in traces:
                await trace.send_dns_resolvehost_start(host)
        try:
            infos = await resolver.resolve(host, port, family)
        except OSError as exc:
            raise ClientConnectorDNSError(key, exc) from exc
        if not cached:
            for trace in traces:
                await trace.send_dns_resolvehost_end(host)
        return infos

    # -- opening -------------------------------------------------------------------------

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
        if key.proxy is not None:
            from ._proxy import open_through_proxy

            await open_through_proxy(
                self, conn, key, traces, timeout, backend, proxy_headers, proxy_auth
            )
            return
        ssl_context, verifier = self._tls_for(key)
        await self._connect_tcp(
            conn,
            key,
            key.host,
            key.port,
            traces,
            timeout,
            backend,
            ssl_context,
            (key.server_hostname or key.host) if ssl_context is not None else None,
            verifier,
        )

    async def _connect_tcp(
        self,
        conn: PooledConnection,
        key: ConnectionKey,
        host: str,
        port: int,
        traces: Sequence[Any],
        timeout: ClientTimeout | None,
        backend: Backend,
        ssl_context: _ssl.SSLContext | None,
        server_hostname: str | None,
        verifier: PeerVerifier | None,
        *,
        proxy: bool = False,
    ) -> Connection:
        """One TCP (+TLS) connection to ``host:port`` for ``conn``, errors translated."""
        infos = await self._resolve(key, host, port, traces)
        sock_connect = timeout.sock_connect if timeout is not None else None
        scope = backend.fail_after(sock_connect or None)
        try:
            with scope:
                return await backend.connect_tcp(
                    conn,
                    host,
                    port,
                    ssl=ssl_context,
                    server_hostname=server_hostname,
                    local_addr=self._local_addr,
                    family=self._family,
                    happy_eyeballs_delay=self._happy_eyeballs_delay,
                    verify_peer=verifier,
                    resolver=_Resolved(infos),
                )
        except BaseException as exc:
            raise _translate(exc, key, host, port, scope.expired, sock_connect, proxy) from exc


def _translate(
    exc: BaseException,
    key: ConnectionKey,
    host: str,
    port: int,
    expired: bool,
    sock_connect: float | None,
    proxy: bool,
) -> BaseException:
    """The aiohttp exception for a failed connection attempt (others pass through)."""
    from ._exceptions import ClientProxyConnectionError

    if isinstance(exc, TimeoutError) and expired:
        return ConnectionTimeoutError(
            f"Connection timeout to host {host}:{port} (ClientTimeout.sock_connect={sock_connect})"
        )
    if isinstance(exc, _BackendFingerprintMismatch):
        return ServerFingerprintMismatch(exc.expected, exc.got, host, port)
    if isinstance(exc, _ssl.CertificateError):
        return ClientConnectorCertificateError(key, exc)
    if isinstance(exc, _ssl.SSLError):
        return ClientConnectorSSLError(key, exc)
    if isinstance(exc, OSError):
        if proxy:
            return ClientProxyConnectionError(key, exc)
        return ClientConnectorError(key, exc)
    return exc


def _merge_ssl(
    ssl: bool | Fingerprint | _ssl.SSLContext,
    verify_ssl: bool,
    ssl_context: _ssl.SSLContext | None,
    fingerprint: bytes | None,
) -> bool | Fingerprint | _ssl.SSLContext:
    """Fold aiohttp's deprecated ``verify_ssl``/``ssl_context``/``fingerprint`` into ``ssl``."""
    if not verify_ssl:
        warnings.warn("verify_ssl is deprecated, use ssl=False", DeprecationWarning, stacklevel=3)
        if ssl is not True:
            raise ValueError("verify_ssl, ssl_context, fingerprint and ssl are exclusive")
        ssl = False
    if ssl_context is not None:
        warnings.warn(
            "ssl_context is deprecated, use ssl=context", DeprecationWarning, stacklevel=3
        )
        if ssl is not True:
            raise ValueError("verify_ssl, ssl_context, fingerprint and ssl are exclusive")
        ssl = ssl_context
    if fingerprint is not None:
        warnings.warn(
            "fingerprint is deprecated, use ssl=Fingerprint(fingerprint)",
            DeprecationWarning,
            stacklevel=3,
        )
        if ssl is not True:
            raise ValueError("verify_ssl, ssl_context, fingerprint and ssl are exclusive")
        ssl = Fingerprint(fingerprint)
    return ssl


class UnixConnector(BaseConnector):
    """Connections to a Unix socket at ``path``, whatever host the URL names."""

    def __init__(
        self,
        path: str,
        force_close: bool = False,
        keepalive_timeout: float | Any | None = _DEFAULT,
        limit: int = 100,
        limit_per_host: int = 0,
        loop: Any = None,
    ) -> None:
        super().__init__(
            force_close=force_close,
            keepalive_timeout=keepalive_timeout,
            limit=limit,
            limit_per_host=limit_per_host,
        )
        self._path = path

    @property
    def path(self) -> str:
        return self._path

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
        sock_connect = timeout.sock_connect if timeout is not None else None
        scope = backend.fail_after(sock_connect or None)
        try:
            with scope:
                await backend.connect_unix(conn, self._path)
        except TimeoutError as exc:
            if not scope.expired:
                raise UnixClientConnectorError(self._path, key, exc) from exc
            raise ConnectionTimeoutError(f"Connection timeout to unix socket {self._path}") from exc
        except OSError as exc:
            raise UnixClientConnectorError(self._path, key, exc) from exc
