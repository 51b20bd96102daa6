"""The loose types the routing layer is written against, until Request and Application exist.

The router only stores handlers and hands them back in a match info; it never calls
them with a real request. So a handler is typed loosely as ``Callable[[Any],
Awaitable[Any]]`` and the few request attributes routing code reads are spelled out in
the :class:`RequestLike` protocol. The server's ``Request`` will satisfy it, and these
aliases can then be tightened without changing behaviour.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Awaitable, Callable, Collection, Generator, Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._matchinfo import AbstractRoute, UrlMappingMatchInfo
    from ._resources import AbstractResource


class RequestLike(Protocol):
    """What routing code reads from a request (placeholder for ``web.Request``)."""

    @property
    def method(self) -> str: ...


Handler = Callable[[Any], Awaitable[Any]]
"""A request handler: ``async def handler(request) -> response``."""

ExpectHandler = Callable[[Any], Awaitable[Any]]
"""Called for ``Expect:`` requests before the body is read (RFC 9110 10.1.1)."""


class SubAppRouter(Protocol):
    """The part of a sub-application's router its parent's resources use."""

    def resources(self) -> Iterable[AbstractResource]: ...

    def routes(self) -> Collection[AbstractRoute]: ...

    def resolve(self, method: str, path: str, host: str | None = None) -> UrlMappingMatchInfo: ...


class SubApplication(Protocol):
    """What a sub-application must offer to be mounted (``Application`` later)."""

    @property
    def router(self) -> SubAppRouter: ...


class AbstractView(abc.ABC):
    """Class-based view: instantiated with the request, awaited for the response."""

    def __init__(self, request: Any) -> None:
        self._request = request

    @property
    def request(self) -> Any:
        """The request this view instance was created for."""
        return self._request

    @abc.abstractmethod
    def __await__(self) -> Generator[Any, None, Any]:
        """Run the view; the result is the response."""


def is_async_callable(obj: object) -> bool:
    """True for ``async def`` functions, partials of them and objects with one as ``__call__``."""
    if inspect.iscoroutinefunction(obj):
        return True
    call = getattr(obj, "__call__", None)  # noqa: B004 -- the method itself is inspected
    return call is not None and inspect.iscoroutinefunction(call)


def check_handler(handler: object) -> None:
    """Refuse handlers the server could not await (aiohttp 4 rule; 3.x only warned)."""
    if isinstance(handler, type):
        if issubclass(handler, AbstractView):
            return
    elif is_async_callable(handler):
        return
    raise TypeError(f"Only async functions are allowed as web-handlers, got {handler!r}")


__all__ = [
    "AbstractView",
    "ExpectHandler",
    "Handler",
    "RequestLike",
    "SubAppRouter",
    "SubApplication",
    "check_handler",
    "is_async_callable",
]
