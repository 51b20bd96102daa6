"""The seam between the connection pool and the session/request/response layer.

``TCPConnector``/``UnixConnector`` (``_connector.py``) own sockets, DNS, TLS, proxies'
CONNECT tunnels and the pool; they hand out an :class:`Exchange`: one HTTP/1.1
request/response on a pooled connection, driven through the sans-IO
``treadle.protocol.ClientConnection``. ``ClientSession``, ``ClientRequest`` and
``ClientResponse`` (``_session.py``, ``_request.py``, ``_response.py``) only talk to
this seam, never to a backend connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import ssl

    from ..backends import Connection
    from ..message import StreamReader
    from ..protocol import Request, Response

__all__ = ["ConnectionKey", "Exchange"]


@dataclass(frozen=True, slots=True)
class ConnectionKey:
    """Which pooled connections are interchangeable (aiohttp's ``ConnectionKey``).

    ``ssl`` is ``True`` (default verification), ``False`` (no verification), an
    ``ssl.SSLContext`` or a ``Fingerprint``; ``proxy`` is the proxy URL as text when the
    request goes through one (with ``proxy_headers`` for its CONNECT / absolute-form
    request).
    """

    host: str
    port: int
    is_ssl: bool
    ssl: ssl.SSLContext | bool | Any = True
    proxy: str | None = None
    proxy_headers_hash: int | None = None
    server_hostname: str | None = None
    # The pool looks a key up several times per request: its hash is computed once.
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = (self.host, self.port, self.is_ssl, self.ssl, self.proxy)
        value = hash((*fields, self.proxy_headers_hash, self.server_hostname))
        object.__setattr__(self, "_hash", value)

    def __hash__(self) -> int:
        return self._hash


class Exchange(Protocol):
    """One request/response on one connection taken from the pool.

    Order of use: ``send_head`` -> zero or more ``write`` -> ``end_body`` ->
    ``read_head`` -> read ``content`` to its end -> ``release()``. ``close()`` may come
    at any point (errors, cancellation, an unread body): the socket is closed and the
    pool slot freed. Both are idempotent, and the pool slot is freed exactly once.
    """

    @property
    def key(self) -> ConnectionKey: ...

    @property
    def reused(self) -> bool:
        """True when this connection served an earlier request (stale-retry decisions)."""
        ...

    @property
    def content(self) -> StreamReader:
        """The response body, fed as it arrives; errors surface from its read methods."""
        ...

    @property
    def peername(self) -> Any: ...

    @property
    def ssl_object(self) -> Any: ...

    def send_head(self, head: Request) -> None:
        """Buffer the request head (checked for injection by the protocol core)."""
        ...

    async def send_bodiless(self, head: Request) -> None:
        """``send_head`` and ``end_body`` of a request without a body, in one write."""
        ...

    async def write(self, data: bytes) -> None:
        """Send a body chunk with backpressure."""
        ...

    async def end_body(self) -> None:
        """End the request body (chunked terminator when chunked) and flush."""
        ...

    async def read_head(self) -> Response:
        """Wait for the final response head; 1xx responses other than 101 are skipped.

        Raises ``ServerDisconnectedError`` if the peer closes first and
        ``ClientResponseError`` subclasses on a malformed head.
        """
        ...

    async def wait_for_100_continue(self) -> bool:
        """For ``expect100``: True on ``100 Continue``, False when a final head came."""
        ...

    def release(self) -> None:
        """Give the connection back to the pool if the exchange ended cleanly, else close."""
        ...

    def close(self) -> None:
        """Close the connection and free its pool slot."""
        ...

    def detach(self) -> tuple[Connection, bytes, bool]:
        """After a ``101 Switching Protocols`` (WebSocket): take the connection over.

        Returns the backend connection, the bytes received after the 101 head and
        whether EOF followed them. The caller installs its own handler
        (``conn.set_handler``) and owns the socket; ``close()`` then only frees the
        pool slot, and should be called when the upgraded connection is done.
        """
        ...
