"""Runners: set an application (or a bare server) up, own its sites, shut it down gracefully.

The same code runs inside any asyncio, uvloop or trio program; ``run_app`` is a runner
plus sites plus signal handling. ``cleanup()`` is the graceful path of aiohttp:

1. stop every site (listening sockets closed: new connections are refused);
2. one checkpoint, so requests already read start being handled;
3. ``server.pre_shutdown()`` (idle keep-alive connections close, busy ones close after
   their current response);
4. the application's ``on_shutdown`` signal;
5. ``server.shutdown(shutdown_timeout)``: in-flight handlers get up to
   ``shutdown_timeout`` seconds, then are cancelled;
6. the application's ``on_cleanup`` signal (and the exit half of ``cleanup_ctx``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ..backends import ConnectionHandler, HandlerFactory, get_backend
from ._accesslog import AbstractAccessLogger, AccessLogger
from ._app import Application

if TYPE_CHECKING:
    from ._sites import BaseSite

__all__ = ["AppRunner", "BaseRunner", "GracefulExit", "ServerRunner"]


class GracefulExit(SystemExit):
    """aiohttp's exception for "stop serving now"; ``run_app`` treats it as a clean exit."""

    code = 1


class ServerLike(Protocol):
    """What a runner needs of ``web.Server``: a handler factory that can shut down."""

    def __call__(self) -> ConnectionHandler: ...
    def pre_shutdown(self) -> None: ...
    async def shutdown(self, timeout: float | None = None) -> None: ...


class BaseRunner:
    """A server plus the sites it listens on; subclasses say where the server comes from.

    ``handle_signals=True`` asks ``run_app`` to turn SIGINT/SIGTERM into a graceful
    shutdown (see ``docs/running.md``); a runner used on its own leaves signals alone,
    and the program calls ``cleanup()`` when it wants to stop.
    """

    __slots__ = ("_handle_signals", "_kwargs", "_server", "_shutdown_timeout", "_sites")

    def __init__(
        self, *, handle_signals: bool = False, shutdown_timeout: float = 60.0, **kwargs: Any
    ) -> None:
        self._handle_signals = handle_signals
        self._shutdown_timeout = shutdown_timeout
        self._kwargs = kwargs
        self._server: ServerLike | None = None
        self._sites: list[BaseSite] = []

    @property
    def server(self) -> ServerLike | None:
        """The server once ``setup()`` has run, None before and after ``cleanup()``."""
        return self._server

    @property
    def handle_signals(self) -> bool:
        return self._handle_signals

    @property
    def shutdown_timeout(self) -> float:
        """Seconds in-flight handlers get to finish during ``cleanup()``."""
        return self._shutdown_timeout

    @property
    def addresses(self) -> list[Any]:
        """Bound address of every listening socket of every started site."""
        return [
            address
            for site in self._sites
            if site.listener is not None
            for address in site.listener.addresses
        ]

    @property
    def sites(self) -> set[BaseSite]:
        return set(self._sites)

    async def setup(self) -> None:
        """Make the server (for an app: run ``on_startup`` and freeze it)."""
        if self._server is not None:
            raise RuntimeError("runner.setup() was already called")
        self._server = await self._make_server()

    async def shutdown(self) -> None:
        """The application's part of the shutdown (``on_shutdown``); nothing for a server."""

    async def cleanup(self) -> None:
        """Stop the sites, then shut the server down gracefully (see the module doc)."""
        for site in list(self._sites):
            await site.stop()
        server = self._server
        if server is not None:
            await get_backend().checkpoint()
            server.pre_shutdown()
            await self.shutdown()
            await server.shutdown(self._shutdown_timeout)
        await self._cleanup_server()
        self._server = None

    async def _make_server(self) -> ServerLike:
        raise NotImplementedError

    async def _cleanup_server(self) -> None:
        pass

    def _handler_factory(self) -> HandlerFactory:
        if self._server is None:
            raise RuntimeError("the runner is not set up (or was cleaned up)")
        return self._server

    def _reg_site(self, site: BaseSite) -> None:
        if site in self._sites:
            raise RuntimeError(f"Site {site} is already registered in runner {self}")
        self._sites.append(site)

    def _check_site(self, site: BaseSite) -> None:
        if site not in self._sites:
            raise RuntimeError(f"Site {site} is not registered in runner {self}")

    def _unreg_site(self, site: BaseSite) -> None:
        if site in self._sites:
            self._sites.remove(site)


class ServerRunner(BaseRunner):
    """Runs a low-level ``web.Server`` (a handler coroutine, no application)."""

    __slots__ = ("_web_server",)

    def __init__(
        self, web_server: ServerLike, *, handle_signals: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(handle_signals=handle_signals, **kwargs)
        self._web_server = web_server

    async def _make_server(self) -> ServerLike:
        return self._web_server


class AppRunner(BaseRunner):
    """Runs a ``web.Application``: startup and freeze in ``setup()``, signals in ``cleanup()``.

    Extra keyword arguments (``access_log``, ``access_log_format``,
    ``keepalive_timeout``...) go to the application's server.
    """

    __slots__ = ("_app",)

    def __init__(
        self,
        app: Application,
        *,
        handle_signals: bool = False,
        access_log_class: type[AbstractAccessLogger] = AccessLogger,
        **kwargs: Any,
    ) -> None:
        if not isinstance(app, Application):
            raise TypeError(f"The first argument should be web.Application instance, got {app!r}")
        if not (
            isinstance(access_log_class, type)
            and issubclass(access_log_class, AbstractAccessLogger)
        ):
            raise TypeError(
                f"access_log_class must be a subclass of web.AbstractAccessLogger, "
                f"got {access_log_class}"
            )
        kwargs["access_log_class"] = access_log_class
        super().__init__(handle_signals=handle_signals, **kwargs)
        self._app = app

    @property
    def app(self) -> Application:
        return self._app

    async def shutdown(self) -> None:
        await self._app.shutdown()

    async def _make_server(self) -> ServerLike:
        self._app.on_startup.freeze()
        await self._app.startup()
        self._app.freeze()
        return self._app._make_handler(**self._kwargs)

    async def _cleanup_server(self) -> None:
        await self._app.cleanup()
