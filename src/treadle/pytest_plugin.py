"""pytest plugin: ``treadle_client``, ``treadle_server``, ``treadle_raw_server``, ``unused_port``.

Registered through the ``pytest11`` entry point, so installing treadle makes the
fixtures available (``-p no:treadle`` turns the plugin off). They are the counterparts of
aiohttp's ``aiohttp_client``/``aiohttp_server``/``aiohttp_raw_server``::

    async def test_hello(treadle_client):
        client = await treadle_client(make_app())
        resp = await client.get("/")
        assert resp.status == 200

Which event loop runs them:

* with anyio's pytest plugin (``@pytest.mark.anyio`` or ``anyio_mode = "auto"``), the
  fixtures run on the test's ``anyio_backend``: asyncio, asyncio+uvloop or trio;
* with pytest-asyncio in auto mode (``asyncio_mode = "auto"``), on its event loop (its
  strict mode ignores fixtures declared with a plain ``@pytest.fixture``);
* with neither, this plugin runs a coroutine test that uses one of these fixtures (or is
  marked ``@pytest.mark.treadle``) on a fresh asyncio event loop of its own, with its
  function-scoped async fixtures on the same loop.

The ini option ``treadle_transport = memory`` makes every server the fixtures start use
the in-memory transport (no sockets) unless a test asks for ``transport="tcp"``.

Nothing of treadle's client or server is imported until a fixture is used, so the plugin
costs nothing to test suites that do not use it.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from .test_utils import BaseTestServer, RawTestServer, TestClient, TestServer

__all__ = [
    "treadle_client",
    "treadle_client_cls",
    "treadle_raw_server",
    "treadle_server",
    "unused_port",
]

_S = TypeVar("_S", bound="BaseTestServer")

FIXTURES = frozenset({"treadle_client", "treadle_server", "treadle_raw_server"})

#: The item's loop runner (``treadle.backends.loop_runner``: only backends/ imports
#: asyncio), created when a test needs it.
_RUNNER = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "treadle_transport",
        "transport of the servers treadle's fixtures start: 'tcp' (default) or 'memory'",
        default="tcp",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "treadle: run this coroutine test on an asyncio loop of treadle's plugin "
        "(only needed without anyio's or pytest-asyncio's plugin)",
    )


def _transport(request: pytest.FixtureRequest, kwargs: dict[str, Any]) -> None:
    if "transport" not in kwargs:
        kwargs["transport"] = str(request.config.getini("treadle_transport") or "tcp")


# -- fixtures ------------------------------------------------------------------------


@pytest.fixture
def unused_port() -> Callable[[], int]:
    """A function returning a TCP port that is free on 127.0.0.1 (aiohttp's ``unused_port``)."""
    from .test_utils import unused_port as find

    return find


@pytest.fixture
def treadle_client_cls() -> type[TestClient]:
    """The client class ``treadle_client`` makes; override it to add helpers."""
    from .test_utils import TestClient

    return TestClient


@contextlib.asynccontextmanager
async def _started_servers(
    request: pytest.FixtureRequest, make: Callable[..., _S]
) -> AsyncIterator[Callable[..., Awaitable[_S]]]:
    """A factory starting ``make(target, port=..., **kwargs)`` with the configured
    transport; the servers it started are closed (last first) when the test ends."""
    servers: list[_S] = []

    async def go(target: Any, *, port: int | None = None, **kwargs: Any) -> _S:
        _transport(request, kwargs)
        server = make(target, port=port, **kwargs)
        servers.append(server)
        await server.start_server()
        return server

    try:
        yield go
    finally:
        while servers:
            await servers.pop().close()


@pytest.fixture
async def treadle_server(
    request: pytest.FixtureRequest,
) -> AsyncIterator[Callable[..., Awaitable[TestServer]]]:
    """Factory: ``await treadle_server(app, port=None, transport=..., **server_kwargs)``."""
    from .test_utils import TestServer

    async with _started_servers(request, TestServer) as go:
        yield go


@pytest.fixture
async def treadle_raw_server(
    request: pytest.FixtureRequest,
) -> AsyncIterator[Callable[..., Awaitable[RawTestServer]]]:
    """Factory: ``await treadle_raw_server(handler, port=None, **server_kwargs)``."""
    from .test_utils import RawTestServer

    async with _started_servers(request, RawTestServer) as go:
        yield go


@pytest.fixture
async def treadle_client(
    request: pytest.FixtureRequest, treadle_client_cls: type[TestClient]
) -> AsyncIterator[Callable[..., Awaitable[TestClient]]]:
    """Factory: ``await treadle_client(app | server | handler, **client_kwargs)``.

    An application gets a ``TestServer``, a plain ``async def handler(request)`` a
    ``RawTestServer``; both take ``server_kwargs`` (a dict) and ``transport``. A test
    server made beforehand is used as it is. Other keyword arguments go to the client
    (``ClientSession``'s: ``headers``, ``cookie_jar``, ``timeout``...).
    """
    from .server import Application
    from .test_utils import BaseTestServer, RawTestServer, TestServer

    clients: list[TestClient] = []

    async def go(
        target: Any,
        *,
        server_kwargs: dict[str, Any] | None = None,
        transport: str | None = None,
        **kwargs: Any,
    ) -> TestClient:
        options = dict(server_kwargs or {})
        if transport is not None:
            options["transport"] = transport
        server: BaseTestServer
        if isinstance(target, BaseTestServer):
            if options:
                raise TypeError("server_kwargs/transport apply to an app or handler, not a server")
            server = target
        elif isinstance(target, Application):
            _transport(request, options)
            server = TestServer(target, **options)
        elif callable(target):
            _transport(request, options)
            server = RawTestServer(target, **options)
        else:
            raise TypeError(f"treadle_client takes an app, a test server or a handler: {target!r}")
        client = treadle_client_cls(server, **kwargs)
        clients.append(client)
        await client.start_server()
        return client

    try:
        yield go
    finally:
        while clients:
            await clients.pop().close()


# -- a runner for projects with no async plugin -------------------------------------


def _is_ours(node: Any) -> bool:
    """A coroutine test that no other plugin runs, and that uses treadle's fixtures."""
    if not isinstance(node, pytest.Function):
        return False
    if not inspect.iscoroutinefunction(node.obj):
        return False  # a sync test, or one another plugin has wrapped already
    names = node.fixturenames
    if "anyio_backend" in names or node.get_closest_marker("asyncio") is not None:
        return False
    return node.get_closest_marker("treadle") is not None or not FIXTURES.isdisjoint(names)


def _runner(node: pytest.Item) -> Any:
    runner = node.stash.get(_RUNNER, None)
    if runner is None:
        from .backends import loop_runner

        runner = node.stash[_RUNNER] = loop_runner("asyncio")
    return runner


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Generator[None, Any, Any]:
    func = fixturedef.func
    is_async = inspect.isasyncgenfunction(func) or inspect.iscoroutinefunction(func)
    if not is_async or not _is_ours(request.node):
        return (yield)
    runner = _runner(request.node)

    def wrapper(**kwargs: Any) -> Generator[Any, None, None]:
        if inspect.isasyncgenfunction(func):
            agen = func(**kwargs)
            yield runner.run(agen.__anext__())
            try:
                runner.run(agen.__anext__())
            except StopAsyncIteration:
                return
            runner.run(agen.aclose())
            raise RuntimeError(f"async fixture {fixturedef.argname!r} yielded more than once")
        yield runner.run(func(**kwargs))

    fixturedef.func = wrapper
    try:
        return (yield)
    finally:
        fixturedef.func = func


@pytest.hookimpl
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not _is_ours(pyfuncitem):
        return None
    funcargs = pyfuncitem.funcargs
    testargs = {name: funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    _runner(pyfuncitem).run(pyfuncitem.obj(**testargs))
    return True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    try:
        yield  # fixture finalizers run the async fixtures' teardown on the runner first
    finally:
        runner = item.stash.get(_RUNNER, None)
        if runner is not None:
            del item.stash[_RUNNER]
            runner.close()
