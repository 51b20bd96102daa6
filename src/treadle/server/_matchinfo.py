"""Routes (a method and a handler on a resource) and the match info a lookup returns.

``UrlMappingMatchInfo`` is what ``request.match_info`` will be: a ``dict`` of the
decoded path variables plus the route and handler. A failed lookup still returns a
match info, ``MatchInfoError``, whose handler raises its ``http_exception`` (404, or
405 with ``Allow``), so the server always has something to call.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self

from yarl import URL

from ._abc import ExpectHandler, Handler, check_handler, is_async_callable
from ._exceptions import HTTPException, HTTPExpectationFailed
from ._hdrs import METH_ANY, TOKEN_RE

if TYPE_CHECKING:
    from ._resources import AbstractResource


async def _default_expect_handler(request: Any) -> None:
    """Accept ``Expect: 100-continue`` and refuse any other expectation (RFC 9110 10.1.1).

    Returning means "go on": the server layer then sends the ``100 Continue`` interim
    response itself (the protocol core owns the bytes).
    """
    expect = request.headers.get("Expect", "")
    if tuple(request.version) == (1, 1) and expect.lower() != "100-continue":
        # The value is not repeated (aiohttp does): an error page never echoes the request.
        raise HTTPExpectationFailed(text="Unknown Expect")


class AbstractRoute(abc.ABC):
    """A handler for one method (or ``*``) on a resource."""

    def __init__(
        self,
        method: str,
        handler: Handler | type[Any],
        *,
        expect_handler: ExpectHandler | None = None,
        resource: AbstractResource | None = None,
    ) -> None:
        if expect_handler is None:
            expect_handler = _default_expect_handler
        if not is_async_callable(expect_handler):
            raise TypeError(f"Coroutine is expected, got {expect_handler!r}")
        method = method.upper()
        if method != METH_ANY and not TOKEN_RE.fullmatch(method):
            raise ValueError(f"{method} is not allowed HTTP method")
        check_handler(handler)
        self._method = method
        self._handler = handler
        self._expect_handler = expect_handler
        self._resource = resource

    @property
    def method(self) -> str:
        return self._method

    @property
    def handler(self) -> Handler:
        return self._handler

    @property
    @abc.abstractmethod
    def name(self) -> str | None:
        """The resource's name, if any."""

    @property
    def resource(self) -> AbstractResource | None:
        return self._resource

    @abc.abstractmethod
    def get_info(self) -> dict[str, Any]:
        """Introspection data (path, formatter, prefix, ...)."""

    @abc.abstractmethod
    def url_for(self, *args: str, **kwargs: str) -> URL:
        """The URL of this route's resource."""

    async def handle_expect_header(self, request: Any) -> Any:
        return await self._expect_handler(request)


class ResourceRoute(AbstractRoute):
    """A route registered on a resource."""

    def __init__(
        self,
        method: str,
        handler: Handler | type[Any],
        resource: AbstractResource,
        *,
        expect_handler: ExpectHandler | None = None,
    ) -> None:
        super().__init__(method, handler, expect_handler=expect_handler, resource=resource)

    @property
    def name(self) -> str | None:
        return None if self._resource is None else self._resource.name

    def get_info(self) -> dict[str, Any]:
        assert self._resource is not None
        return self._resource.get_info()

    def url_for(self, *args: str, **kwargs: str) -> URL:
        assert self._resource is not None
        return self._resource.url_for(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<ResourceRoute [{self.method}] {self._resource} -> {self.handler!r}"


class SystemRoute(AbstractRoute):
    """The route of a failed lookup: its handler raises the HTTP exception."""

    def __init__(self, http_exception: HTTPException) -> None:
        # Built for every 404/405, so AbstractRoute's checks of user-given handlers are
        # skipped: this route's handler and expect handler are known to be async.
        self._method = METH_ANY
        self._handler = self._handle
        self._expect_handler = _default_expect_handler
        self._resource = None
        self._http_exception = http_exception

    async def _handle(self, request: Any) -> Any:
        raise self._http_exception

    @property
    def name(self) -> str | None:
        return None

    def get_info(self) -> dict[str, Any]:
        return {"http_exception": self._http_exception}

    def url_for(self, *args: str, **kwargs: str) -> URL:
        raise RuntimeError(".url_for() is not allowed for SystemRoute")

    @property
    def status(self) -> int:
        return self._http_exception.status

    @property
    def reason(self) -> str:
        return self._http_exception.reason

    def __repr__(self) -> str:
        return f"<SystemRoute {self.status}: {self.reason}>"


class UrlMappingMatchInfo(dict[str, str]):
    """The decoded path variables of a match, with its route, handler and app stack."""

    def __init__(self, match_dict: dict[str, str], route: AbstractRoute) -> None:
        super().__init__(match_dict)
        self._route = route
        self._apps: list[Any] = []
        self._current_app: Any = None
        self._frozen = False

    @classmethod
    def _complete(cls, route: AbstractRoute, apps: list[Any], current_app: Any) -> Self:
        """A frozen, variable-free match built without ``__init__``, ``add_app`` or
        ``freeze`` calls: what the application's route cache answers for plain paths."""
        self = dict.__new__(cls)
        self._route = route
        self._apps = apps
        self._current_app = current_app
        self._frozen = True
        return self

    @property
    def handler(self) -> Handler:
        return self._route.handler

    @property
    def route(self) -> AbstractRoute:
        return self._route

    @property
    def expect_handler(self) -> ExpectHandler:
        return self._route.handle_expect_header

    @property
    def http_exception(self) -> HTTPException | None:
        """None for a match; the 404/405 to answer with for ``MatchInfoError``."""
        return None

    def get_info(self) -> dict[str, Any]:
        return self._route.get_info()

    @property
    def apps(self) -> tuple[Any, ...]:
        """The applications, outermost first, whose routers led to this match."""
        return tuple(self._apps)

    def add_app(self, app: Any) -> None:
        if self._frozen:
            raise RuntimeError("Cannot change apps stack after .freeze() call")
        if self._current_app is None:
            self._current_app = app
        self._apps.insert(0, app)

    @property
    def current_app(self) -> Any:
        return self._current_app

    @contextmanager
    def set_current_app(self, app: Any) -> Iterator[None]:
        """Make ``app`` current while its middlewares run (server layer)."""
        if app not in self._apps:
            raise RuntimeError(f"Expected one of the following apps {self._apps!r}, got {app!r}")
        previous = self._current_app
        self._current_app = app
        try:
            yield
        finally:
            self._current_app = previous

    def freeze(self) -> None:
        self._frozen = True

    def __repr__(self) -> str:
        return f"<MatchInfo {super().__repr__()}: {self._route}>"


class MatchInfoError(UrlMappingMatchInfo):
    """The result of a lookup that found nothing (404) or not this method (405)."""

    def __init__(self, http_exception: HTTPException) -> None:
        self._exception = http_exception
        super().__init__({}, SystemRoute(http_exception))

    @property
    def http_exception(self) -> HTTPException:
        return self._exception

    def __repr__(self) -> str:
        return f"<MatchInfoError {self._exception.status}: {self._exception.reason}>"


__all__ = [
    "AbstractRoute",
    "MatchInfoError",
    "ResourceRoute",
    "SystemRoute",
    "UrlMappingMatchInfo",
]
