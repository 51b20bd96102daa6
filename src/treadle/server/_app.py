"""``Application``: the router, middlewares, signals and state of one web app.

The connection runtime (``Server`` and ``RequestHandler``) calls
:meth:`Application._handle` for every request: resolve the route, run the ``Expect``
handler, then the handler wrapped in the middlewares of every application on the way
to it (sub-applications included), and turn an ``HTTPException`` -- raised or returned
-- into a response. See ``docs/server.md``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._abc import is_async_callable
from ._app_support import (
    AppKey,
    CleanupContext,
    Handler,
    Middleware,
    build_legacy_chain,
    build_middleware_chain,
    prepare_middlewares,
)
from ._exceptions import HTTPException
from ._matchinfo import AbstractRoute, SystemRoute, UrlMappingMatchInfo
from ._request import Request
from ._resources import PlainResource
from ._response import response_from_http_exception
from ._router import UrlDispatcher
from ._signals import Signal
from ._state_mapping import IdentityMapping
from ._subapps import MatchedSubAppResource, PrefixedSubAppResource, domain_rule
from ._web_server import Server

if TYPE_CHECKING:
    from ._accesslog import AbstractAccessLogger
    from ._routedef import AbstractRouteDef

__all__ = ["Application"]

T = TypeVar("T")

web_logger = logging.getLogger("treadle.web")

_ROUTE_CACHE_SIZE = 256


class Application(IdentityMapping, MutableMapping[str | AppKey[Any], Any]):
    """A web application: ``app.router``, ``app.middlewares``, signals and state.

    ``Application(*, logger, middlewares, handler_args, client_max_size, debug)`` as in
    aiohttp 3.x; middlewares are ``@middleware async def mw(request, handler)``, or
    old-style ``async def factory(app, handler)`` factories when unmarked (deprecated).
    """

    __slots__ = (
        "__weakref__",
        "_cleanup_ctx",
        "_client_max_size",
        "_debug",
        "_frozen",
        "_handler_args",
        "_has_legacy_middlewares",
        "_middlewares",
        "_middlewares_handlers",
        "_needs_host",
        "_on_cleanup",
        "_on_response_prepare",
        "_on_shutdown",
        "_on_startup",
        "_pre_frozen",
        "_route_cache",
        "_router",
        "_run_middlewares",
        "_state",
        "_subapps",
        "logger",
    )

    def __init__(
        self,
        *,
        logger: logging.Logger = web_logger,
        middlewares: Iterable[Middleware] = (),
        handler_args: Mapping[str, Any] | None = None,
        client_max_size: int = 1024**2,
        loop: Any = None,
        debug: bool = False,
    ) -> None:
        del loop  # aiohttp compatibility: the running loop is found at the point of use
        self._router = UrlDispatcher()
        self._handler_args = handler_args
        self.logger = logger
        self._middlewares: Signal = Signal(self)  # a FrozenList of callables
        for middleware in middlewares:
            self._check_middleware(middleware)
            self._middlewares.append(middleware)
        self._middlewares_handlers: tuple[tuple[Middleware, bool], ...] = ()
        self._run_middlewares: bool | None = None
        self._has_legacy_middlewares = False
        self._needs_host = False
        self._route_cache: dict[tuple[str, str], tuple[AbstractRoute, tuple[Any, ...], Any]] = {}
        self._state: dict[str | AppKey[Any], Any] = {}
        self._frozen = False
        self._pre_frozen = False
        self._subapps: list[Application] = []
        self._on_response_prepare = Signal(self)
        self._on_startup = Signal(self)
        self._on_shutdown = Signal(self)
        self._on_cleanup = Signal(self)
        self._cleanup_ctx = CleanupContext()
        self._on_startup.append(self._cleanup_ctx._on_startup)
        self._on_cleanup.append(self._cleanup_ctx._on_cleanup)
        self._client_max_size = client_max_size
        self._debug = debug

    @staticmethod
    def _check_middleware(middleware: object) -> None:
        if not is_async_callable(middleware):
            raise TypeError(f"Middleware {middleware!r} must be an async function")

    # (identity, truthy when empty: IdentityMapping)

    def __call__(self) -> Application:
        """``web.run_app(app_factory())`` and gunicorn call an app factory: return self."""
        return self

    def __repr__(self) -> str:
        return f"<Application 0x{id(self):x}>"

    # -- state --------------------------------------------------------------------------

    def _check_frozen(self) -> None:
        if self._frozen:
            warnings.warn(
                "Changing state of started or joined application is deprecated",
                DeprecationWarning,
                stacklevel=3,
            )

    @overload
    def __getitem__(self, key: AppKey[T]) -> T: ...
    @overload
    def __getitem__(self, key: str) -> Any: ...
    def __getitem__(self, key: str | AppKey[T]) -> Any:
        return self._state[key]

    @overload  # type: ignore[override]
    def get(self, key: AppKey[T], default: None = ...) -> T | None: ...
    @overload
    def get(self, key: AppKey[T], default: T) -> T: ...
    @overload
    def get(self, key: str, default: Any = ...) -> Any: ...
    def get(self, key: str | AppKey[T], default: Any = None) -> Any:
        return self._state.get(key, default)

    def __setitem__(self, key: str | AppKey[Any], value: Any) -> None:
        self._check_frozen()
        if not isinstance(key, AppKey):
            warnings.warn(
                "It is recommended to use web.AppKey instances for keys.\n"
                "https://docs.aiohttp.org/en/stable/web_advanced.html#application-s-config",
                UserWarning,
                stacklevel=2,
            )
        self._state[key] = value

    def __delitem__(self, key: str | AppKey[Any]) -> None:
        self._check_frozen()
        del self._state[key]

    def __len__(self) -> int:
        return len(self._state)

    def __iter__(self) -> Iterator[str | AppKey[Any]]:
        return iter(self._state)

    # -- configuration ------------------------------------------------------------------

    @property
    def router(self) -> UrlDispatcher:
        return self._router

    @property
    def middlewares(self) -> Signal:
        return self._middlewares

    @property
    def debug(self) -> bool:
        return self._debug

    @property
    def on_response_prepare(self) -> Signal:
        return self._on_response_prepare

    @property
    def on_startup(self) -> Signal:
        return self._on_startup

    @property
    def on_shutdown(self) -> Signal:
        return self._on_shutdown

    @property
    def on_cleanup(self) -> Signal:
        return self._on_cleanup

    @property
    def cleanup_ctx(self) -> CleanupContext:
        return self._cleanup_ctx

    def add_routes(self, routes: Iterable[AbstractRouteDef]) -> list[Any]:
        return self._router.add_routes(routes)

    def add_subapp(self, prefix: str, subapp: Application) -> PrefixedSubAppResource:
        """Mount ``subapp`` under ``prefix``; its signals run with this app's."""
        if not isinstance(prefix, str):
            raise TypeError("Prefix must be str")
        prefix = prefix.rstrip("/")
        if not prefix:
            raise ValueError("Prefix cannot be empty")
        resource = PrefixedSubAppResource(prefix, subapp)
        self._add_subapp(resource, subapp)
        return resource

    def add_domain(self, domain: str, subapp: Application) -> MatchedSubAppResource:
        """Serve ``subapp`` for requests whose ``Host`` is ``domain`` (``*`` masks allowed)."""
        if not isinstance(domain, str):
            raise TypeError("Domain must be str")
        if not domain:
            raise ValueError("Domain cannot be empty")
        resource = MatchedSubAppResource(domain_rule(domain), subapp)
        self._add_subapp(resource, subapp)
        return resource

    def _add_subapp(self, resource: PrefixedSubAppResource, subapp: Application) -> None:
        if self._frozen:
            raise RuntimeError("Cannot add sub application to frozen application")
        if subapp.frozen:
            raise RuntimeError("Cannot add frozen application")
        self._router.register_resource(resource)
        for name in ("on_startup", "on_shutdown", "on_cleanup"):
            getattr(self, name).append(_SubappSignal(getattr(subapp, name), subapp))
        self._subapps.append(subapp)
        subapp.pre_freeze()

    # -- freezing -----------------------------------------------------------------------

    @property
    def frozen(self) -> bool:
        return self._frozen

    @property
    def pre_frozen(self) -> bool:
        return self._pre_frozen

    def pre_freeze(self) -> None:
        """Freeze router, middlewares and signals (a sub-app is pre-frozen when added)."""
        if self._pre_frozen:
            return
        self._pre_frozen = True
        self._middlewares.freeze()
        self._router.freeze()
        self._on_response_prepare.freeze()
        self._cleanup_ctx.freeze()
        self._on_startup.freeze()
        self._on_shutdown.freeze()
        self._on_cleanup.freeze()
        self._middlewares_handlers = prepare_middlewares(self)
        self._has_legacy_middlewares = any(
            not new_style for _, new_style in self._middlewares_handlers
        ) or any(subapp._has_legacy_middlewares for subapp in self._subapps)
        # Middlewares run only when some application of the tree has any.
        self._run_middlewares = bool(self._middlewares) or any(
            subapp._run_middlewares for subapp in self._subapps
        )
        # Only domain-mounted sub-apps look at the Host header while routing.
        self._needs_host = any(
            isinstance(resource, MatchedSubAppResource) for resource in self._router.resources()
        ) or any(subapp._needs_host for subapp in self._subapps)

    def freeze(self) -> None:
        if self._frozen:
            return
        self.pre_freeze()
        self._frozen = True
        for subapp in self._subapps:
            subapp.freeze()

    # -- lifecycle ----------------------------------------------------------------------

    async def startup(self) -> None:
        """Run ``on_startup`` (cleanup contexts included, sub-apps' in turn)."""
        await self._on_startup.send(self)

    async def shutdown(self) -> None:
        await self._on_shutdown.send(self)

    async def cleanup(self) -> None:
        """Run ``on_cleanup``; before startup (signals not frozen) only the contexts."""
        if self._on_cleanup.frozen:
            await self._on_cleanup.send(self)
        else:
            await self._cleanup_ctx._on_cleanup(self)

    def _make_handler(
        self,
        *,
        loop: Any = None,
        access_log_class: type[AbstractAccessLogger] | None = None,
        **kwargs: Any,
    ) -> Server:
        """The connection-handler factory serving this app (what runners give to sites)."""
        del loop
        from ._accesslog import AbstractAccessLogger, AccessLogger

        if access_log_class is None:
            access_log_class = AccessLogger
        if not (
            isinstance(access_log_class, type)
            and issubclass(access_log_class, AbstractAccessLogger)
        ):
            raise TypeError(
                "access_log_class must be a subclass of AbstractAccessLogger, "
                f"got {access_log_class!r}"
            )
        self.freeze()
        kwargs["debug"] = self._debug
        kwargs["access_log_class"] = access_log_class
        if self._handler_args:
            kwargs.update(self._handler_args)
        # A partial of the class: one C-level call per request instead of a method.
        factory = partial(Request, client_max_size=self._client_max_size)
        return Server(self._handle, request_factory=factory, **kwargs)

    def _make_request(
        self, message: Any, payload: Any, conn: Any, writer: Any, task: Any
    ) -> Request:
        return Request(message, payload, conn, writer, task, client_max_size=self._client_max_size)

    # -- per request ----------------------------------------------------------------------

    def _resolve(self, method: str, path: str, request: Request) -> UrlMappingMatchInfo:
        """The router's answer, from a small cache for plain (variable-free) paths.

        A frozen router answers the same (method, path) the same way; plain resources
        are the hot case (``/``, ``/json``) and have a few spellings each. Other
        matches, misses and Host-dependent trees always go to the router. The cache
        is bounded (emptied when full), since a client chooses the paths.
        """
        if self._needs_host:
            return self._router.resolve(method, path, request.host)
        key = (method, path)
        cached = self._route_cache.get(key)
        if cached is not None:
            # Complete (this app included, as _handle would add it) and frozen already.
            route, apps, current = cached
            return UrlMappingMatchInfo._complete(route, [*apps], current)
        match_info = self._router.resolve(method, path)
        route = match_info.route
        if type(route.resource) is PlainResource:
            cache = self._route_cache
            if len(cache) >= _ROUTE_CACHE_SIZE:
                cache.clear()
            current = match_info.current_app
            cache[key] = (route, (self, *match_info.apps), self if current is None else current)
        return match_info

    async def _handle(self, request: Request) -> Any:
        """Route ``request`` and run it through the middlewares; always returns a response."""
        try:
            message = request._message
            target = message.target
            if target[:1] == b"/":  # origin-form, the usual case: no URL object needed
                path = target.decode("latin-1").partition("?")[0]
            else:
                path = request.rel_url.raw_path
            method = request._method
            match_info = self._resolve(method, path, request)
            if not match_info._frozen:  # a route-cache hit comes complete and frozen
                match_info.add_app(self)
                match_info.freeze()
            request._match_info = match_info
            if _has_expect(message.headers):
                # RFC 9110 10.1.1: the route may refuse before the body is sent; the
                # 100 Continue itself goes out when the handler starts reading the body.
                response = await match_info.expect_handler(request)
                if response is not None:
                    return response
            handler: Handler = match_info.handler
            if self._run_middlewares:
                if self._has_legacy_middlewares:
                    handler = await build_legacy_chain(handler, match_info.apps)
                elif isinstance(match_info.route, SystemRoute):
                    # A new SystemRoute per miss: caching on it would only fill the cache.
                    handler = build_middleware_chain.__wrapped__(handler, match_info.apps)
                else:
                    handler = build_middleware_chain(handler, match_info.apps)
            response = await handler(request)
        except HTTPException as exc:
            return response_from_http_exception(exc)
        if isinstance(response, HTTPException):
            return response_from_http_exception(response)
        return response


def _has_expect(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, _ in headers:  # noqa: SIM110 -- a plain loop: any() over a genexpr is slower
        if len(name) == 6 and name.lower() == b"expect":
            return True
    return False


class _SubappSignal:
    """A parent's signal receiver that sends the sub-app's own signal."""

    __slots__ = ("_signal", "_subapp")

    def __init__(self, signal: Signal, subapp: Application) -> None:
        self._signal = signal
        self._subapp = subapp

    async def __call__(self, app: Application) -> None:
        await self._signal.send(self._subapp)

    def __repr__(self) -> str:
        return f"<sub-app signal {self._signal!r}>"
