"""Resources: a path (plain, with variables, or a prefix) and the routes registered on it.

``resolve(method, path, host)`` receives the path already safe-decoded by the router
(see ``_quoting``) and answers ``(match_info, allowed_methods)``: a match info when path
and method match, else ``None`` plus the methods the path would have accepted (so the
router can tell 404 from 405).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from yarl import URL

from ._abc import ExpectHandler, Handler
from ._hdrs import METH_ANY
from ._matchinfo import AbstractRoute, ResourceRoute, UrlMappingMatchInfo
from ._quoting import decode_value, quote, requote, safe_decode

Resolved = tuple[UrlMappingMatchInfo | None, AbstractSet[str]]
# What a resource whose path does not match answers: shared, so a miss allocates nothing.
NO_METHODS: frozenset[str] = frozenset()
QueryArg = str | Mapping[str, Any] | Sequence[tuple[str, Any]] | None

# A variable: "{name}" or "{name:regex}", where the regex may hold one level of braces.
ROUTE_RE = re.compile(r"(\{[_a-zA-Z][^{}]*(?:\{[^{}]*\}[^{}]*)*\})")
_DYN = re.compile(r"\{(?P<var>[_a-zA-Z][_a-zA-Z0-9]*)\}")
_DYN_WITH_RE = re.compile(r"\{(?P<var>[_a-zA-Z][_a-zA-Z0-9]*):(?P<re>.+)\}")
_GOOD = r"[^{}/]+"


def check_prefix(prefix: str) -> None:
    """A prefix starts with ``/`` and does not end with one (aiohttp asserts the same)."""
    if not prefix.startswith("/") or prefix.endswith("/") or len(prefix) < 2:
        raise ValueError(f"prefix {prefix!r} must start with '/' and not end with '/'")


class AbstractResource(abc.ABC):
    """A path the router knows, holding the routes (methods) registered on it."""

    def __init__(self, *, name: str | None = None) -> None:
        self._name = name
        self._frozen = False

    @property
    def name(self) -> str | None:
        return self._name

    @property
    @abc.abstractmethod
    def canonical(self) -> str:
        """The resource's path as written, e.g. ``/users/{name}``."""

    @abc.abstractmethod
    def url_for(self, *args: str, **kwargs: Any) -> URL:
        """Build the URL of this resource from path variables."""

    def url(self, *, parts: Mapping[str, Any] | None = None, query: QueryArg = None) -> URL:
        """``url_for(**parts)`` with a query string (aiohttp 2's ``Resource.url``)."""
        url = self.url_for(**dict(parts or {}))
        return url if query is None else url.with_query(query)

    @abc.abstractmethod
    def resolve(self, method: str, path: str, host: str | None = None) -> Resolved:
        """Match a safe-decoded ``path`` and ``method``: ``(match_info, allowed)``."""

    @abc.abstractmethod
    def add_prefix(self, prefix: str) -> None:
        """Prepend ``prefix`` (a sub-application's mount point) to the path."""

    @abc.abstractmethod
    def get_info(self) -> dict[str, Any]:
        """Introspection data."""

    @abc.abstractmethod
    def raw_match(self, path: str) -> bool:
        """True if ``path`` is exactly how this resource was written."""

    def freeze(self) -> None:
        self._frozen = True

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def __iter__(self) -> Iterator[AbstractRoute]: ...


class Resource(AbstractResource):
    """A resource with routes added one method at a time."""

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self._routes: list[ResourceRoute] = []

    def add_route(
        self,
        method: str,
        handler: Handler | type[Any],
        *,
        expect_handler: ExpectHandler | None = None,
    ) -> ResourceRoute:
        """Register ``handler`` for ``method``; a method can be registered once."""
        if self._frozen:
            raise RuntimeError("Cannot add a route to a frozen resource")
        method = method.upper()
        for route in self._routes:
            if route.method == method or route.method == METH_ANY:
                raise RuntimeError(
                    "Added route will never be executed, "
                    f"method {route.method} is already registered"
                )
        route = ResourceRoute(method, handler, self, expect_handler=expect_handler)
        self.register_route(route)
        return route

    def register_route(self, route: ResourceRoute) -> None:
        if not isinstance(route, ResourceRoute):
            raise TypeError(f"Instance of Route class is required, got {route!r}")
        self._routes.append(route)

    def resolve(self, method: str, path: str, host: str | None = None) -> Resolved:
        match = self._match(path)
        if match is None:
            return None, NO_METHODS
        allowed: set[str] = set()
        for route in self._routes:
            allowed.add(route.method)
            if route.method == method or route.method == METH_ANY:
                return UrlMappingMatchInfo(match, route), allowed
        return None, allowed

    @abc.abstractmethod
    def _match(self, path: str) -> dict[str, str] | None:
        """The decoded variables if the safe-decoded ``path`` is this resource's."""

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._routes)


class PlainResource(Resource):
    """A path without variables, compared as a whole string."""

    def __init__(self, path: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        if path and not path.startswith("/"):
            raise ValueError(f"path {path!r} should start with / or be empty")
        self._path = requote(path)
        self._match_path = safe_decode(self._path)

    @property
    def canonical(self) -> str:
        return self._path

    def freeze(self) -> None:
        super().freeze()
        if not self._path:
            self._path = self._match_path = "/"

    def add_prefix(self, prefix: str) -> None:
        check_prefix(prefix)
        self._path = requote(prefix) + self._path
        self._match_path = safe_decode(self._path)

    def _match(self, path: str) -> dict[str, str] | None:
        return {} if path == self._match_path else None

    def raw_match(self, path: str) -> bool:
        return self._path == requote(path)

    def get_info(self) -> dict[str, Any]:
        return {"path": self._path}

    def url_for(self) -> URL:  # type: ignore[override]
        return URL.build(path=self._path, encoded=True)

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<PlainResource {name} {self._path}>"


class DynamicResource(Resource):
    """A path with ``{name}`` (one segment) or ``{name:regex}`` variables."""

    def __init__(self, path: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        if not path.startswith("/"):
            raise ValueError(f"path {path!r} should start with /")
        self._raw_path = path
        pattern = ""
        # Literal parts are kept requoted; a variable is (name, "/" may stay literal).
        self._parts: list[str | tuple[str, bool]] = []
        for part in ROUTE_RE.split(path):
            match = _DYN.fullmatch(part) or _DYN_WITH_RE.fullmatch(part)
            if match is not None:
                var = match.group("var")
                regex = match.groupdict().get("re") or _GOOD
                pattern += f"(?P<{var}>{regex})"
                self._parts.append((var, regex != _GOOD))
                continue
            if "{" in part or "}" in part:
                raise ValueError(f"Invalid path '{path}'['{part}']")
            literal = requote(part)
            self._parts.append(literal)
            pattern += re.escape(safe_decode(literal))
        try:
            self._pattern = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"Bad pattern '{pattern}': {exc}") from None

    @property
    def _formatter(self) -> str:
        return "".join(p if isinstance(p, str) else "{" + p[0] + "}" for p in self._parts)

    @property
    def canonical(self) -> str:
        return self._formatter

    def add_prefix(self, prefix: str) -> None:
        check_prefix(prefix)
        literal = requote(prefix)
        self._raw_path = prefix + self._raw_path
        self._parts.insert(0, literal)
        self._pattern = re.compile(re.escape(safe_decode(literal)) + self._pattern.pattern)

    def _match(self, path: str) -> dict[str, str] | None:
        match = self._pattern.fullmatch(path)
        if match is None:
            return None
        groups = match.groupdict().items()
        return {key: decode_value(value) for key, value in groups if value is not None}

    def raw_match(self, path: str) -> bool:
        return path in (self._formatter, self._raw_path)

    def get_info(self) -> dict[str, Any]:
        return {"formatter": self._formatter, "pattern": self._pattern}

    def url_for(self, **parts: str) -> URL:  # type: ignore[override]
        """Fill the variables in; ``/`` is encoded unless the variable has its own regex."""
        out = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
                continue
            var, safe_slash = part
            value = parts[var]
            if not isinstance(value, str):
                raise TypeError(f"url_for() value for {var!r} must be str, got {value!r}")
            out.append(quote(value, safe_slash=safe_slash))
        return URL.build(path="".join(out), encoded=True)

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<DynamicResource {name} {self._formatter}>"


class PrefixResource(AbstractResource):
    """A resource matching every path under a prefix (static files, sub-apps)."""

    def __init__(self, prefix: str, *, name: str | None = None) -> None:
        if prefix:
            check_prefix(prefix)
        super().__init__(name=name)
        self._set_prefix(requote(prefix))

    def _set_prefix(self, prefix: str) -> None:
        self._prefix = prefix
        self._match_prefix = safe_decode(prefix)
        self._match_below = self._match_prefix + "/"

    @property
    def canonical(self) -> str:
        return self._prefix

    def add_prefix(self, prefix: str) -> None:
        check_prefix(prefix)
        self._set_prefix(requote(prefix) + self._prefix)

    def raw_match(self, path: str) -> bool:
        return False

    def _under(self, path: str) -> bool:
        """True for the prefix itself and anything below it (not ``/staticfoo``)."""
        return path == self._match_prefix or path.startswith(self._match_below)


__all__ = [
    "AbstractResource",
    "DynamicResource",
    "PlainResource",
    "PrefixResource",
    "Resource",
]
