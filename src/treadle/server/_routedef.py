"""Route definitions: ``web.get(path, handler)`` and ``RouteTableDef`` decorators.

A definition is inert data until ``router.add_routes(defs)`` registers it; that is
what lets a module declare its routes at import time, before any app exists.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._abc import Handler
from ._hdrs import (
    METH_ANY,
    METH_DELETE,
    METH_GET,
    METH_HEAD,
    METH_OPTIONS,
    METH_PATCH,
    METH_POST,
    METH_PUT,
)
from ._static import PathLike

if TYPE_CHECKING:
    from ._matchinfo import AbstractRoute
    from ._router import UrlDispatcher

_H = TypeVar("_H", bound=Callable[..., Any])


class AbstractRouteDef(abc.ABC):
    """Something ``add_routes`` can register."""

    @abc.abstractmethod
    def register(self, router: UrlDispatcher) -> list[AbstractRoute]:
        """Add this definition to ``router``; return the routes it created."""


@dataclass(frozen=True, repr=False)
class RouteDef(AbstractRouteDef):
    """``method path -> handler`` plus keyword arguments for ``add_route``."""

    method: str
    path: str
    handler: Handler | type[Any]
    kwargs: dict[str, Any]

    def __repr__(self) -> str:
        info = "".join(f", {name}={value!r}" for name, value in sorted(self.kwargs.items()))
        handler = getattr(self.handler, "__name__", self.handler)
        return f"<RouteDef {self.method} {self.path} -> {handler!r}{info}>"

    def register(self, router: UrlDispatcher) -> list[AbstractRoute]:
        # Only GET registers differently (HEAD too, unless allow_head=False).
        if self.method == METH_GET:
            return [router.add_get(self.path, self.handler, **self.kwargs)]
        return [router.add_route(self.method, self.path, self.handler, **self.kwargs)]


@dataclass(frozen=True, repr=False)
class StaticDef(AbstractRouteDef):
    """``add_static(prefix, path, **kwargs)`` as data."""

    prefix: str
    path: PathLike
    kwargs: dict[str, Any]

    def __repr__(self) -> str:
        info = "".join(f", {name}={value!r}" for name, value in sorted(self.kwargs.items()))
        return f"<StaticDef {self.prefix} -> {self.path}{info}>"

    def register(self, router: UrlDispatcher) -> list[AbstractRoute]:
        resource = router.add_static(self.prefix, self.path, **self.kwargs)
        return list(resource)


def route(method: str, path: str, handler: Handler | type[Any], **kwargs: Any) -> RouteDef:
    return RouteDef(method, path, handler, kwargs)


def head(path: str, handler: Handler, **kwargs: Any) -> RouteDef:
    return route(METH_HEAD, path, handler, **kwargs)


def options(path: str, handler: Handler, **kwargs: Any) -> RouteDef:
    return route(METH_OPTIONS, path, handler, **kwargs)


def get(
    path: str,
    handler: Handler | type[Any],
    *,
    name: str | None = None,
    allow_head: bool = True,
    **kwargs: Any,
) -> RouteDef:
    """GET (and HEAD unless ``allow_head=False``)."""
    return route(METH_GET, path, handler, name=name, allow_head=allow_head, **kwargs)


def post(path: str, handler: Handler, **kwargs: Any) -> RouteDef:
    return route(METH_POST, path, handler, **kwargs)


def put(path: str, handler: Handler, **kwargs: Any) -> RouteDef:
    return route(METH_PUT, path, handler, **kwargs)


def patch(path: str, handler: Handler, **kwargs: Any) -> RouteDef:
    return route(METH_PATCH, path, handler, **kwargs)


def delete(path: str, handler: Handler, **kwargs: Any) -> RouteDef:
    return route(METH_DELETE, path, handler, **kwargs)


def view(path: str, handler: type[Any], **kwargs: Any) -> RouteDef:
    """A class-based view for every method."""
    return route(METH_ANY, path, handler, **kwargs)


def static(prefix: str, path: PathLike, **kwargs: Any) -> StaticDef:
    return StaticDef(prefix, path, kwargs)


class RouteTableDef(Sequence[AbstractRouteDef]):
    """A list of route definitions filled by decorators (``@routes.get("/")``)."""

    def __init__(self) -> None:
        self._items: list[AbstractRouteDef] = []

    def __repr__(self) -> str:
        return f"<RouteTableDef count={len(self._items)}>"

    @overload
    def __getitem__(self, index: int) -> AbstractRouteDef: ...

    @overload
    def __getitem__(self, index: slice) -> list[AbstractRouteDef]: ...

    def __getitem__(self, index: int | slice) -> AbstractRouteDef | list[AbstractRouteDef]:
        return self._items[index]

    def __iter__(self) -> Iterator[AbstractRouteDef]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def route(self, method: str, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        """Decorator: record ``method path -> the decorated handler``; returns it as is."""

        def inner(handler: _H) -> _H:
            self._items.append(RouteDef(method, path, handler, kwargs))
            return handler

        return inner

    def head(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(METH_HEAD, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(METH_GET, path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(METH_POST, path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(METH_PUT, path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(METH_PATCH, path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(METH_DELETE, path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(METH_OPTIONS, path, **kwargs)

    def view(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(METH_ANY, path, **kwargs)

    def static(self, prefix: str, path: PathLike, **kwargs: Any) -> None:
        self._items.append(StaticDef(prefix, path, kwargs))


__all__ = [
    "AbstractRouteDef",
    "RouteDef",
    "RouteTableDef",
    "StaticDef",
    "delete",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "route",
    "static",
    "view",
]
