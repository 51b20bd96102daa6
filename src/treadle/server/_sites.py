"""Sites: where a runner's server listens (TCP host/port, Unix path, an existing socket).

A site is made for a runner that has been set up, started once with ``await
site.start()`` (which registers it with the runner) and stopped by ``site.stop()`` or by
the runner's ``cleanup()``. Stopping only closes the listening sockets: connections that
are open stay with the server until its graceful shutdown.
"""

from __future__ import annotations

import socket
import ssl as _ssl
import warnings
from typing import TYPE_CHECKING, Any

from yarl import URL

from ..backends import Listener, get_backend

if TYPE_CHECKING:
    from ._runner import BaseRunner

__all__ = ["BaseSite", "SockSite", "TCPSite", "UnixSite"]


class BaseSite:
    """What every site shares: the runner, TLS context, backlog and the live listener."""

    __slots__ = ("_backlog", "_listener", "_runner", "_ssl_context")

    def __init__(
        self,
        runner: BaseRunner,
        *,
        shutdown_timeout: float = 60.0,
        ssl_context: _ssl.SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        if runner.server is None:
            raise RuntimeError("Call runner.setup() before making a site")
        if shutdown_timeout != 60.0:
            warnings.warn(
                "shutdown_timeout should be set on BaseRunner",
                DeprecationWarning,
                stacklevel=2,
            )
            runner._shutdown_timeout = shutdown_timeout
        self._runner = runner
        self._ssl_context = ssl_context
        self._backlog = backlog
        self._listener: Listener | None = None

    @property
    def name(self) -> str:
        raise NotImplementedError

    @property
    def _scheme(self) -> str:
        return "https" if self._ssl_context is not None else "http"

    @property
    def listener(self) -> Listener | None:
        """The backend listener while the site is started (its ``addresses``, ``sockets``)."""
        return self._listener

    async def start(self) -> None:
        """Register with the runner and start listening."""
        self._runner._reg_site(self)
        try:
            self._listener = await self._listen()
        except BaseException:
            self._runner._unreg_site(self)
            raise

    async def _listen(self) -> Listener:
        raise NotImplementedError

    async def stop(self) -> None:
        """Close the listening sockets (new connections are refused) and unregister."""
        self._runner._check_site(self)
        listener, self._listener = self._listener, None
        try:
            if listener is not None:
                await listener.aclose()
        finally:
            self._runner._unreg_site(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class TCPSite(BaseSite):
    """Listen on ``host:port`` (every interface when ``host`` is None).

    ``port`` defaults to 8080, or 8443 with ``ssl_context``; 0 asks the OS for a free
    port, and ``name`` then shows the port actually bound once the site is started.
    """

    __slots__ = ("_host", "_port", "_reuse_address", "_reuse_port")

    def __init__(
        self,
        runner: BaseRunner,
        host: str | None = None,
        port: int | None = None,
        *,
        shutdown_timeout: float = 60.0,
        ssl_context: _ssl.SSLContext | None = None,
        backlog: int = 128,
        reuse_address: bool | None = None,
        reuse_port: bool | None = None,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._host = host
        if port is None:
            port = 8443 if ssl_context is not None else 8080
        self._port = port
        self._reuse_address = reuse_address
        self._reuse_port = reuse_port

    @property
    def name(self) -> str:
        host = self._host or "0.0.0.0"
        port = self._port
        if port == 0 and self._listener is not None and self._listener.addresses:
            port = self._listener.addresses[0][1]
        return str(URL.build(scheme=self._scheme, host=host, port=port))

    async def _listen(self) -> Listener:
        return await get_backend().serve_tcp(
            self._runner._handler_factory(),
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=True if self._reuse_address is None else self._reuse_address,
            reuse_port=bool(self._reuse_port),
        )


class UnixSite(BaseSite):
    """Listen on a Unix socket file at ``path`` (removed again when the site stops)."""

    __slots__ = ("_path",)

    def __init__(
        self,
        runner: BaseRunner,
        path: str | Any,
        *,
        shutdown_timeout: float = 60.0,
        ssl_context: _ssl.SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._path = str(path)

    @property
    def name(self) -> str:
        return f"{self._scheme}://unix:{self._path}:"

    async def _listen(self) -> Listener:
        return await get_backend().serve_unix(
            self._runner._handler_factory(),
            self._path,
            ssl=self._ssl_context,
            backlog=self._backlog,
        )


class SockSite(BaseSite):
    """Listen on a socket the caller made (gunicorn's, systemd's, a pre-bound one)."""

    __slots__ = ("_name", "_sock")

    def __init__(
        self,
        runner: BaseRunner,
        sock: socket.socket,
        *,
        shutdown_timeout: float = 60.0,
        ssl_context: _ssl.SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._sock = sock
        scheme = self._scheme
        if hasattr(socket, "AF_UNIX") and sock.family == socket.AF_UNIX:
            self._name = f"{scheme}://unix:{sock.getsockname()}:"
        else:
            host, port = sock.getsockname()[:2]
            self._name = str(URL.build(scheme=scheme, host=host, port=port))

    @property
    def name(self) -> str:
        return self._name

    async def _listen(self) -> Listener:
        return await get_backend().serve_socket(
            self._runner._handler_factory(),
            self._sock,
            ssl=self._ssl_context,
            backlog=self._backlog,
        )
