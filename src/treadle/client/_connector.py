"""TCP and Unix connectors (aiohttp's ``TCPConnector``/``UnixConnector``): opening connections.

The pool, slots and keep-alive are :class:`BaseConnector`'s (``_base_connector.py``);
here is how a new connection is made: DNS with a TTL cache and traces, happy eyeballs,
TLS with verification or pinning, proxies (``_proxy.py``), and the translation of
failures into aiohttp's exceptions. ``ClientTimeout.sock_connect`` bounds each attempt
(TCP connect plus TLS handshake) and raises ``ConnectionTimeoutError``.
"""

from __future__ import annotations

import socket
import ssl as _ssl
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..backends import Fingerprint, Resolver
from ..backends import ServerFingerprintMismatch as _BackendFingerprintMismatch
from ..backends._resolver import numeric_addrinfo
from ._base_connector import DEFAULT, BaseConnector, ProxyHeaders
from ._exceptions import (
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientProxyConnectionError,
    ConnectionTimeoutError,
    ServerFingerprintMismatch,
    UnixClientConnectorError,
)
from ._interfaces import ConnectionKey

if TYPE_CHECKING:
    from ..backends import AddrInfo, Backend, Connection, PeerVerifier
    from ._exchange import PooledConnection
    from ._timeout import ClientTimeout

__all__ = ["BaseConnector", "ProxyHeaders", "TCPConnector", "UnixConnector"]


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
        keepalive_timeout: float | Any | None = DEFAULT,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: Any = None,
        timeout_ceil_threshold: float = 5,
        happy_eyeballs_delay: float | None = 0.25,
        interleave: int | None = None,
        ssl_shutdown_timeout: Any = None,
    ) -> None:
        # ssl_shutdown_timeout: accepted as aiohttp 3.12+ (which deprecates it); TLS
        # connections here are closed by the backend without a shutdown wait
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
        keepalive_timeout: float | Any | None = DEFAULT,
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
