"""The in-memory transport of the test utilities: a site and a connector with no sockets.

``MemorySite`` serves a runner's server on a :class:`~treadle.backends.MemoryListener`
instead of a listening socket, and ``MemoryConnector`` is a client connector whose new
connections dial that listener. Everything above the byte stream is the real thing:
the client's pool, ``PooledConnection`` and sans-IO ``ClientConnection`` on one side,
the server's ``RequestHandler`` and ``ServerConnection`` on the other. So a test gets
the behaviour of a TCP round trip (framing, keep-alive, errors, WebSocket upgrades)
with no ports and no file descriptors, deterministically, on asyncio, uvloop and trio.

This module sits above both ``client/`` and ``server/`` (like ``test_utils``), which is
why it may import from both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from .backends import Connection, ConnectionHandler, Listener, MemoryListener
from .client import BaseConnector
from .client._exceptions import ClientConnectorError
from .server import BaseSite

if TYPE_CHECKING:
    from .backends import Backend
    from .client._base_connector import ProxyHeaders
    from .client._exchange import PooledConnection
    from .client._interfaces import ConnectionKey
    from .client._timeout import ClientTimeout
    from .server import BaseRunner

__all__ = ["Dial", "MemoryConnector", "MemorySite"]


class MemorySite(BaseSite):
    """Serve ``runner``'s server on an in-memory listener (``site.listener``)."""

    __slots__ = ("_memory",)

    def __init__(self, runner: BaseRunner, *, shutdown_timeout: float = 60.0) -> None:
        super().__init__(runner, shutdown_timeout=shutdown_timeout)
        self._memory: MemoryListener | None = None

    @property
    def name(self) -> str:
        return "memory://"

    @property
    def memory_listener(self) -> MemoryListener:
        """The listener while started: what :class:`MemoryConnector` dials."""
        if self._memory is None:
            raise RuntimeError("the memory site is not started")
        return self._memory

    async def _listen(self) -> Listener:
        self._memory = MemoryListener(self._runner._handler_factory())
        return self._memory


#: How a connector reaches the server: ``await dial(client_handler)`` (a listener's
#: ``connect``, or a function finding the listener when the first request is made).
Dial = Callable[[ConnectionHandler], Awaitable[Connection]]


class MemoryConnector(BaseConnector):
    """A connector whose connections go to ``listener``, whatever host the URL names.

    ``listener`` is a :class:`MemoryListener` or a ``Dial`` coroutine function.

    Pool, limits and keep-alive are :class:`BaseConnector`'s, as for TCP. Proxies and
    TLS do not apply: there is no network to cross.
    """

    def __init__(self, listener: MemoryListener | Dial, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._dial: Dial = listener.connect if isinstance(listener, MemoryListener) else listener

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
        if key.is_ssl:
            raise ClientConnectorError(
                key, OSError("TLS is not available over the in-memory transport")
            )
        try:
            await self._dial(conn)
        except ConnectionRefusedError as exc:
            raise ClientConnectorError(key, exc) from exc
