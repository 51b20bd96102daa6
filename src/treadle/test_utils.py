"""Testing an application or a handler with the real client: aiohttp's ``test_utils``.

``TestServer(app)`` runs an application (``RawTestServer(handler)`` a bare request
handler) on a free loopback port, and ``TestClient(server)`` is a ``ClientSession``
whose URLs are relative to it::

    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/")
        assert resp.status == 200

Both work under asyncio, uvloop and trio. ``transport="memory"`` serves the app on an
in-memory listener instead of a socket: the client still goes through its pool and the
sans-IO protocol core, and the server through its request handler, so behaviour is the
same as over TCP, with no ports or file descriptors (fast and deterministic).

The pytest fixtures built on these live in :mod:`treadle.pytest_plugin`; see
``docs/testing.md``.
"""

from __future__ import annotations

import socket
import unittest
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Literal

from yarl import URL

from ._test_memory import MemoryConnector, MemorySite
from .backends import Connection, ConnectionHandler
from .client import ClientResponse, ClientSession, CookieJar
from .client._request_context import _RequestContextManager
from .client._ws import ClientWebSocketResponse, WSRequestContextManager
from .server import (
    Application,
    AppRunner,
    BaseRunner,
    BaseSite,
    Server,
    ServerRunner,
    TCPSite,
)
from .server._mocked import make_mocked_request

__all__ = [
    "AioHTTPTestCase",
    "BaseTestServer",
    "RawTestServer",
    "TestClient",
    "TestServer",
    "make_mocked_request",
    "unused_port",
]

Transport = Literal["tcp", "memory"]


def unused_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host`` (for servers a test starts itself).

    Another process may take it before it is used; ``TestServer`` avoids the race by
    binding port 0 itself.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class BaseTestServer:
    """A runner plus one site on a free port (or in memory), started by ``start_server``.

    ``scheme`` is ``"http"`` or ``"https"`` (empty: https when ``ssl`` is given to
    ``start_server``). ``port`` None binds a free port. Extra keyword arguments (and
    those of ``start_server``) go to the runner and server: ``access_log``,
    ``keepalive_timeout``, ``client_max_size`` limits, ``shutdown_timeout``...
    """

    __test__ = False  # not a pytest test class despite the name

    def __init__(
        self,
        *,
        scheme: str = "",
        loop: Any = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        skip_url_asserts: bool = False,
        transport: Transport = "tcp",
        **kwargs: Any,
    ) -> None:
        del loop  # aiohttp compatibility: the running loop is used
        if transport not in ("tcp", "memory"):
            raise ValueError(f"transport must be 'tcp' or 'memory', got {transport!r}")
        self.runner: BaseRunner | None = None
        self._site: BaseSite | None = None
        self._root: URL | None = None
        self.host = host
        self.port = port
        self.scheme = scheme
        self.skip_url_asserts = skip_url_asserts
        self.transport: Transport = transport
        self._kwargs = kwargs
        self._closed = False

    async def start_server(self, loop: Any = None, **kwargs: Any) -> None:
        """Set the runner up and start listening (a second call does nothing)."""
        del loop
        if self.runner is not None:
            return
        options = {**self._kwargs, **kwargs}
        ssl = options.pop("ssl", None)
        options.setdefault("handler_cancellation", True)
        if ssl is not None and self.transport == "memory":
            raise ValueError("ssl cannot be used with transport='memory'")
        runner = await self._make_runner(**options)
        await runner.setup()
        self.runner = runner
        scheme = self.scheme or ("https" if ssl is not None else "http")
        site: BaseSite
        try:
            if self.transport == "memory":
                memory = MemorySite(runner)
                await memory.start()
                site = memory
                port = memory.memory_listener.addresses[0][1]
            else:
                site = TCPSite(runner, self.host, self.port or 0, ssl_context=ssl)
                await site.start()
                assert site.listener is not None
                port = site.listener.addresses[0][1]
        except BaseException:
            self.runner = None
            await runner.cleanup()
            raise
        self._site = site
        self.port = port
        self.scheme = scheme
        self._root = URL.build(scheme=scheme, host=self.host, port=port)

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        raise NotImplementedError

    def make_url(self, path: str | URL) -> URL:
        """``path`` (relative: ``/x?y=1``) made absolute on this server."""
        if self._root is None:
            raise RuntimeError("the test server is not started")
        url = URL(path)
        if not self.skip_url_asserts:
            if url.absolute:
                raise ValueError(f"a test client takes a relative URL, got {path!r}")
            return self._root.join(url)
        return URL(str(self._root) + str(path))

    @property
    def started(self) -> bool:
        return self.runner is not None

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def handler(self) -> Any:
        """The running ``web.Server`` (its ``connections``, ``requests_count``...)."""
        return self.runner.server if self.runner is not None else None

    async def dial(self, handler: ConnectionHandler) -> Connection:
        """A raw connection to this in-memory server, for tests that speak bytes.

        ``handler`` is a ``treadle.backends.ConnectionHandler`` (``connection_made``,
        ``data_received``, ``eof_received``, ``connection_lost``); the connection
        returned is its end. The client's :class:`MemoryConnector` dials this way too.
        """
        site = self._site
        if not isinstance(site, MemorySite) or site.listener is None:
            raise ConnectionRefusedError("the in-memory test server is not running")
        return await site.memory_listener.connect(handler)

    def _client_connector(self) -> MemoryConnector | None:
        """The connector a client of this server needs (None: the default TCP one)."""
        return MemoryConnector(self.dial) if self.transport == "memory" else None

    async def close(self) -> None:
        """Stop the server gracefully (idempotent)."""
        if self.started and not self._closed:
            assert self.runner is not None
            await self.runner.cleanup()
            self._root = None
            self._site = None
            self._closed = True

    async def __aenter__(self) -> BaseTestServer:
        await self.start_server()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


class TestServer(BaseTestServer):
    """Serves a ``web.Application`` (startup, cleanup and signals run as in production)."""

    def __init__(
        self,
        app: Application,
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(app, Application):
            raise TypeError(f"TestServer takes a web.Application, got {app!r}")
        self.app = app
        super().__init__(scheme=scheme, host=host, port=port, **kwargs)

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return AppRunner(self.app, **kwargs)


class RawTestServer(BaseTestServer):
    """Serves a bare ``async def handler(request) -> response`` (aiohttp's low-level server)."""

    def __init__(
        self,
        handler: Callable[[Any], Awaitable[Any]],
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> None:
        self._handler = handler
        super().__init__(scheme=scheme, host=host, port=port, **kwargs)

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        runner_kwargs = {}
        if "shutdown_timeout" in kwargs:
            runner_kwargs["shutdown_timeout"] = kwargs.pop("shutdown_timeout")
        return ServerRunner(Server(self._handler, **kwargs), **runner_kwargs)


class TestClient:
    """A ``ClientSession`` bound to a test server: ``await client.get("/path")``.

    ``cookie_jar`` defaults to ``CookieJar(unsafe=True)`` so that cookies set by a
    server on an IP address are kept. Other keyword arguments go to ``ClientSession``.
    Responses and WebSockets opened through the client are closed by ``close()``.
    """

    __test__ = False

    def __init__(
        self,
        server: BaseTestServer,
        *,
        cookie_jar: Any = None,
        loop: Any = None,
        **kwargs: Any,
    ) -> None:
        del loop
        if not isinstance(server, BaseTestServer):
            raise TypeError(f"server must be a TestServer or RawTestServer, got {server!r}")
        self._server = server
        if cookie_jar is None:
            cookie_jar = CookieJar(unsafe=True)
        if "connector" not in kwargs:
            connector = server._client_connector()
            if connector is not None:
                kwargs["connector"] = connector
        self._session = ClientSession(cookie_jar=cookie_jar, **kwargs)
        self._closed = False
        self._responses: list[ClientResponse] = []
        self._websockets: list[ClientWebSocketResponse] = []

    async def start_server(self) -> None:
        await self._server.start_server()

    @property
    def scheme(self) -> str:
        return self._server.scheme

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int | None:
        return self._server.port

    @property
    def server(self) -> BaseTestServer:
        return self._server

    @property
    def app(self) -> Application | None:
        """The application of a ``TestServer`` (None for a ``RawTestServer``)."""
        return getattr(self._server, "app", None)

    @property
    def session(self) -> ClientSession:
        """The underlying session (its cookie jar, connector, defaults)."""
        return self._session

    def make_url(self, path: str | URL) -> URL:
        return self._server.make_url(path)

    async def _request(self, method: str, path: str | URL, **kwargs: Any) -> ClientResponse:
        resp = await self._session.request(method, self.make_url(path), **kwargs)
        self._responses.append(resp)
        return resp

    def request(self, method: str, path: str | URL, **kwargs: Any) -> _RequestContextManager:
        """``method`` on ``path`` (relative to the server); awaitable or ``async with``."""
        return _RequestContextManager(self._request(method, path, **kwargs))

    def get(self, path: str | URL, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("GET", path, **kwargs))

    def post(self, path: str | URL, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("POST", path, **kwargs))

    def options(self, path: str | URL, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("OPTIONS", path, **kwargs))

    def head(self, path: str | URL, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("HEAD", path, **kwargs))

    def put(self, path: str | URL, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("PUT", path, **kwargs))

    def patch(self, path: str | URL, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("PATCH", path, **kwargs))

    def delete(self, path: str | URL, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("DELETE", path, **kwargs))

    def ws_connect(self, path: str | URL, **kwargs: Any) -> WSRequestContextManager:
        """Open a WebSocket to ``path``: ``async with client.ws_connect("/ws") as ws``.

        Keywords are ``ClientSession.ws_connect``'s; the WebSocket is closed by ``close()``.
        """
        return WSRequestContextManager(self._ws_connect(path, **kwargs))

    async def _ws_connect(self, path: str | URL, **kwargs: Any) -> ClientWebSocketResponse:
        ws = await self._session.ws_connect(self.make_url(path), **kwargs)
        self._websockets.append(ws)
        return ws

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Release open responses, close WebSockets, the session, then the server."""
        if self._closed:
            return
        self._closed = True
        for resp in self._responses:
            resp.close()
        self._responses.clear()
        for ws in self._websockets:
            await ws.close()
        self._websockets.clear()
        await self._session.close()
        await self._server.close()

    async def __aenter__(self) -> TestClient:
        await self.start_server()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


class AioHTTPTestCase(unittest.IsolatedAsyncioTestCase):
    """aiohttp's ``unittest`` base class: ``self.client`` talks to ``get_application()``.

    Each test method (``async def test_...``) gets a fresh application, server and
    client, closed after it; ``self.app``, ``self.server`` and ``self.client`` are set
    in ``asyncSetUp``. Override ``get_server``/``get_client`` to change how they are
    made (``TestServer(app, transport="memory")``, say). This runs on asyncio only, as
    ``unittest`` does; pytest's fixtures (:mod:`treadle.pytest_plugin`) cover every
    backend.
    """

    __test__ = False  # the base class itself is not a test case for pytest
    app: Application
    server: TestServer
    client: TestClient

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__test__" not in cls.__dict__:
            cls.__test__ = True  # subclasses are collected again

    async def get_application(self) -> Application:
        """The application to test (override this)."""
        return self.get_app()

    def get_app(self) -> Application:
        """The synchronous variant of :meth:`get_application` (aiohttp's old hook)."""
        raise RuntimeError("override get_application() to return the application to test")

    async def asyncSetUp(self) -> None:
        from .backends import running_asyncio_loop

        self.loop = running_asyncio_loop()  # unittest runs this class on asyncio, as aiohttp
        self.app = await self.get_application()
        self.server = await self.get_server(self.app)
        self.client = await self.get_client(self.server)
        await self.client.start_server()

    async def asyncTearDown(self) -> None:
        await self.client.close()

    async def get_server(self, app: Application) -> TestServer:
        return TestServer(app)

    async def get_client(self, server: TestServer) -> TestClient:
        return TestClient(server)
