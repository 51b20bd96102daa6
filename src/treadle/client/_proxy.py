"""Connections through an HTTP proxy: direct for http targets, a CONNECT tunnel for https.

For an ``http://`` target the pooled connection simply goes to the proxy, and the
request layer sends the absolute-form target (RFC 9112 3.2.2). For an ``https://``
target the connector asks the proxy for a tunnel (``CONNECT host:port``, RFC 9110
9.3.6), and on a 2xx answer starts TLS with the origin through it
(``backend.start_tls``); the tunnel is then an ordinary pooled connection for that key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ..protocol import Request
from ._connector import _translate
from ._exceptions import ClientHttpProxyError, InvalidURL, RequestInfo
from ._interfaces import ConnectionKey

if TYPE_CHECKING:
    from ..backends import Backend
    from ._connector import ProxyHeaders, TCPConnector
    from ._exchange import PooledConnection
    from ._timeout import ClientTimeout

__all__ = ["connect_request", "open_through_proxy"]


def _proxy_key(key: ConnectionKey) -> tuple[ConnectionKey, URL]:
    assert key.proxy is not None
    url = URL(key.proxy)
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidURL(key.proxy, "proxies must be http:// or https:// URLs with a host")
    port = url.port or (443 if url.scheme == "https" else 80)
    return ConnectionKey(url.host, port, url.scheme == "https"), url


def connect_request(key: ConnectionKey, proxy_headers: ProxyHeaders, proxy_auth: Any) -> Request:
    """The ``CONNECT host:port`` request head, with the proxy's own headers."""
    host = key.host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal (RFC 9110 9.3.6 / RFC 3986 authority)
    authority = f"{host}:{key.port}".encode("idna" if not host.isascii() else "ascii")
    headers: list[tuple[bytes, bytes]] = [(b"Host", authority)]
    has_auth = False
    if proxy_headers:
        items = proxy_headers.items() if isinstance(proxy_headers, Mapping) else proxy_headers
        for name, value in items:
            if name.lower() == "proxy-authorization":
                has_auth = True
            if name.lower() == "host":
                continue
            headers.append((name.encode("latin-1"), value.encode("latin-1")))
    if proxy_auth is not None and not has_auth:
        headers.append((b"Proxy-Authorization", proxy_auth.encode().encode("latin-1")))
    return Request(b"CONNECT", authority, headers)


async def open_through_proxy(
    connector: TCPConnector,
    conn: PooledConnection,
    key: ConnectionKey,
    traces: Sequence[Any],
    timeout: ClientTimeout | None,
    backend: Backend,
    proxy_headers: ProxyHeaders,
    proxy_auth: Any,
) -> None:
    """Connect ``conn`` to ``key.proxy``; for TLS targets, tunnel and start TLS."""
    proxy_key, proxy_url = _proxy_key(key)
    proxy_tls = connector._verified() if proxy_key.is_ssl else None
    plain = await connector._connect_tcp(
        conn,
        proxy_key,
        proxy_key.host,
        proxy_key.port,
        traces,
        timeout,
        backend,
        proxy_tls,
        proxy_key.host if proxy_tls is not None else None,
        None,
        proxy=True,
    )
    if not key.is_ssl:
        return
    head = connect_request(key, proxy_headers, proxy_auth)
    sock_read = timeout.sock_read if timeout is not None else None
    conn.start(sock_read, 2**16)
    conn.send_head(head)
    await conn.end_body()
    response = await conn.read_head()
    if not 200 <= response.status_code < 300:
        headers = CIMultiDictProxy(
            CIMultiDict(
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in response.headers
            )
        )
        info = RequestInfo(proxy_url, "CONNECT", head.headers)
        raise ClientHttpProxyError(
            info,
            (),
            status=response.status_code,
            message=response.reason.decode("latin-1", "replace") or "proxy refused the tunnel",
            headers=headers,
        )
    data, _ = conn.proto.trailing_data
    if data:
        raise ClientHttpProxyError(
            RequestInfo(proxy_url, "CONNECT", head.headers),
            (),
            status=response.status_code,
            message="the proxy sent data before the TLS handshake",
        )
    ssl_context, verifier = connector._tls_for(key)
    assert ssl_context is not None
    server_hostname = key.server_hostname or key.host
    sock_connect = timeout.sock_connect if timeout is not None else None
    scope = backend.fail_after(sock_connect or None)
    try:
        with scope:
            await backend.start_tls(
                plain, ssl_context, server_hostname=server_hostname, verify_peer=verifier
            )
    except BaseException as exc:
        raise _translate(exc, key, key.host, key.port, scope.expired, sock_connect, False) from exc
    conn.tunnel_ready()
