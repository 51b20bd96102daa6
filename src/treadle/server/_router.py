"""``UrlDispatcher``: aiohttp's router, a mapping of route names to resources.

Lookup walks the resources in registration order, domain-matched sub-applications
(``add_domain``) first as in aiohttp 3.10+, so a sub-app's ``/`` wins over its parent's
for a matching ``Host``; the first resource whose path and method match wins. When
paths matched but no method did, the answer is 405 with the union of the methods those
paths accept in ``Allow`` (RFC 9110 15.5.6); when no path matched, 404.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ._abc import ExpectHandler, Handler
from ._exceptions import HTTPMethodNotAllowed, HTTPNotFound
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
from ._matchinfo import AbstractRoute, MatchInfoError, UrlMappingMatchInfo
from ._quoting import safe_decode
from ._resources import AbstractResource, DynamicResource, PlainResource, Resource
from ._static import PathLike, StaticResource, StaticResponder
from ._subapps import MatchedSubAppResource

if TYPE_CHECKING:
    from ._routedef import AbstractRouteDef


class ResourcesView(Collection[AbstractResource]):
    """A read-only live view of the router's resources."""

    def __init__(self, resources: list[AbstractResource]) -> None:
        self._resources = resources

    def __len__(self) -> int:
        return len(self._resources)

    def __iter__(self) -> Iterator[AbstractResource]:
        yield from self._resources

    def __contains__(self, resource: object) -> bool:
        return resource in self._resources


class RoutesView(Collection[AbstractRoute]):
    """A snapshot of every route of every resource."""

    def __init__(self, resources: list[AbstractResource]) -> None:
        self._routes = [route for resource in resources for route in resource]

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[AbstractRoute]:
        yield from self._routes

    def __contains__(self, route: object) -> bool:
        return route in self._routes


class UrlDispatcher(Mapping[str, AbstractResource]):
    """The router: resources in order, and the named ones by name (``router[name]``)."""

    NAME_SPLIT_RE = re.compile(r"[.:-]")

    def __init__(self, *, static_responder: StaticResponder | None = None) -> None:
        self._resources: list[AbstractResource] = []
        # The lookup order: domain-matched sub-apps first, then the rest as registered.
        self._lookup: list[AbstractResource] = []
        self._domain_count = 0
        self._named_resources: dict[str, AbstractResource] = {}
        self._frozen = False
        self._static_responder = static_responder

    # -- lookup -----------------------------------------------------------------------

    def resolve(self, method: str, path: str, host: str | None = None) -> UrlMappingMatchInfo:
        """Find the route for ``method`` and the request's raw (still encoded) ``path``.

        ``host`` is the ``Host`` header, for domain-mounted sub-applications. Never
        raises for bad input: a failed lookup is a ``MatchInfoError`` whose
        ``http_exception`` is 404 or 405.
        """
        if not path.startswith("/"):
            return MatchInfoError(HTTPNotFound())
        decoded = safe_decode(path)
        allowed: set[str] = set()
        for resource in self._lookup:
            match_info, methods = resource.resolve(method, decoded, host)
            if match_info is not None:
                return match_info
            if methods:
                allowed |= methods
        if allowed:
            return MatchInfoError(HTTPMethodNotAllowed(method, allowed))
        return MatchInfoError(HTTPNotFound())

    # -- the Mapping of named resources -------------------------------------------------

    def __iter__(self) -> Iterator[str]:
        return iter(self._named_resources)

    def __len__(self) -> int:
        return len(self._named_resources)

    def __contains__(self, name: object) -> bool:
        return name in self._named_resources

    def __getitem__(self, name: str) -> AbstractResource:
        return self._named_resources[name]

    def resources(self) -> ResourcesView:
        return ResourcesView(self._resources)

    def routes(self) -> RoutesView:
        return RoutesView(self._resources)

    def named_resources(self) -> Mapping[str, AbstractResource]:
        return MappingProxyType(self._named_resources)

    # -- registration -------------------------------------------------------------------

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        """Refuse further registration (the application does this on startup)."""
        self._frozen = True
        for resource in self._resources:
            resource.freeze()

    def _check_not_frozen(self) -> None:
        if self._frozen:
            raise RuntimeError("Cannot register a resource into frozen router.")

    def register_resource(self, resource: AbstractResource) -> None:
        """Append ``resource``; its name, if any, must be new and made of identifiers."""
        if not isinstance(resource, AbstractResource):
            raise TypeError(f"Instance of AbstractResource class is required, got {resource!r}")
        self._check_not_frozen()
        name = resource.name
        if name is not None:
            for part in self.NAME_SPLIT_RE.split(name):
                if keyword.iskeyword(part):
                    raise ValueError(
                        f"Incorrect route name {name!r}, "
                        "python keywords cannot be used for route name"
                    )
                if not part.isidentifier():
                    raise ValueError(
                        f"Incorrect route name {name!r}, the name should be a sequence "
                        "of python identifiers separated by dash, dot or column"
                    )
            if name in self._named_resources:
                raise ValueError(
                    f"Duplicate {name!r}, already handled by {self._named_resources[name]!r}"
                )
            self._named_resources[name] = resource
        self._resources.append(resource)
        if isinstance(resource, MatchedSubAppResource):
            self._lookup.insert(self._domain_count, resource)
            self._domain_count += 1
        else:
            self._lookup.append(resource)

    def add_resource(self, path: str, *, name: str | None = None) -> Resource:
        """The resource for ``path``: the last one again if it has this path and name."""
        self._check_not_frozen()
        if path and not path.startswith("/"):
            raise ValueError("path should be started with / or be empty")
        if self._resources:
            last = self._resources[-1]
            if isinstance(last, Resource) and last.name == name and last.raw_match(path):
                return last
        resource: Resource
        if "{" in path or "}" in path:
            resource = DynamicResource(path, name=name)
        else:
            resource = PlainResource(path, name=name)
        self.register_resource(resource)
        return resource

    def add_route(
        self,
        method: str,
        path: str,
        handler: Handler | type[Any],
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
    ) -> AbstractRoute:
        resource = self.add_resource(path, name=name)
        return resource.add_route(method, handler, expect_handler=expect_handler)

    def add_static(
        self,
        prefix: str,
        path: PathLike,
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
        chunk_size: int = 256 * 1024,
        show_index: bool = False,
        follow_symlinks: bool = False,
        append_version: bool = False,
    ) -> StaticResource:
        """Serve the files under directory ``path`` at URL ``prefix`` (GET and HEAD)."""
        if not prefix.startswith("/"):
            raise ValueError(f"static prefix {prefix!r} must start with '/'")
        self._check_not_frozen()
        resource = StaticResource(
            prefix.rstrip("/"),
            path,
            name=name,
            expect_handler=expect_handler,
            chunk_size=chunk_size,
            show_index=show_index,
            follow_symlinks=follow_symlinks,
            append_version=append_version,
            responder=self._static_responder,
        )
        self.register_resource(resource)
        return resource

    def add_head(self, path: str, handler: Handler, **kwargs: Any) -> AbstractRoute:
        return self.add_route(METH_HEAD, path, handler, **kwargs)

    def add_options(self, path: str, handler: Handler, **kwargs: Any) -> AbstractRoute:
        return self.add_route(METH_OPTIONS, path, handler, **kwargs)

    def add_get(
        self,
        path: str,
        handler: Handler | type[Any],
        *,
        name: str | None = None,
        allow_head: bool = True,
        **kwargs: Any,
    ) -> AbstractRoute:
        """GET, and HEAD on the same handler unless ``allow_head=False`` (RFC 9110 9.3.2)."""
        resource = self.add_resource(path, name=name)
        if allow_head:
            resource.add_route(METH_HEAD, handler, **kwargs)
        return resource.add_route(METH_GET, handler, **kwargs)

    def add_post(self, path: str, handler: Handler, **kwargs: Any) -> AbstractRoute:
        return self.add_route(METH_POST, path, handler, **kwargs)

    def add_put(self, path: str, handler: Handler, **kwargs: Any) -> AbstractRoute:
        return self.add_route(METH_PUT, path, handler, **kwargs)

    def add_patch(self, path: str, handler: Handler, **kwargs: Any) -> AbstractRoute:
        return self.add_route(METH_PATCH, path, handler, **kwargs)

    def add_delete(self, path: str, handler: Handler, **kwargs: Any) -> AbstractRoute:
        return self.add_route(METH_DELETE, path, handler, **kwargs)

    def add_view(self, path: str, handler: type[Any], **kwargs: Any) -> AbstractRoute:
        """A class-based view answering every method (it dispatches itself)."""
        return self.add_route(METH_ANY, path, handler, **kwargs)

    def add_routes(self, routes: Iterable[AbstractRouteDef]) -> list[AbstractRoute]:
        """Register route definitions (``web.get(...)``, a ``RouteTableDef``...)."""
        registered: list[AbstractRoute] = []
        for route_def in routes:
            registered.extend(route_def.register(self))
        return registered

    def __repr__(self) -> str:
        return f"<UrlDispatcher: {len(self._resources)} resources>"


__all__ = ["ResourcesView", "RoutesView", "UrlDispatcher"]
