"""Small value types of HTTP messages that the client and the server both expose.

``HttpVersion`` (``request.version``, ``response.version``), ``ETag`` (RFC 9110 8.8.3)
and ``ChainMapProxy`` (``request.config_dict``) are top-level names in aiohttp
(``aiohttp.HttpVersion11``, ``aiohttp.ETag``, ``aiohttp.ChainMapProxy``). They live here
so that one class serves both sides: client/ and server/ never import each other.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final, NamedTuple

__all__ = ["ChainMapProxy", "ETag", "HttpVersion", "HttpVersion10", "HttpVersion11"]


class HttpVersion(NamedTuple):
    """An HTTP version as ``(major, minor)``; compares with tuples: ``HttpVersion11 == (1, 1)``."""

    major: int
    minor: int


HttpVersion10: Final = HttpVersion(1, 0)
HttpVersion11: Final = HttpVersion(1, 1)


class ETag(NamedTuple):
    """An entity tag: ``value`` without quotes, ``is_weak`` for ``W/"..."``."""

    value: str
    is_weak: bool = False


class ChainMapProxy(Mapping[Any, Any]):
    """A read-only view over several mappings, the first that has a key wins.

    ``request.config_dict``: the innermost application's state first, then its parents'.
    """

    __slots__ = ("_maps",)

    def __init__(self, maps: Sequence[Mapping[Any, Any]]) -> None:
        self._maps = tuple(maps)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError(f"Inheritance class {cls.__name__} from ChainMapProxy is forbidden")

    def __getitem__(self, key: Any) -> Any:
        for mapping in self._maps:
            try:
                return mapping[key]
            except KeyError:
                pass
        raise KeyError(key)

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __len__(self) -> int:
        return len(set().union(*self._maps))

    def __iter__(self) -> Iterator[Any]:
        seen: dict[Any, None] = {}
        for mapping in reversed(self._maps):
            seen.update(dict.fromkeys(mapping))
        return iter(seen)

    def __contains__(self, key: object) -> bool:
        return any(key in mapping for mapping in self._maps)

    def __bool__(self) -> bool:
        return any(self._maps)

    def __repr__(self) -> str:
        return f"ChainMapProxy({', '.join(map(repr, self._maps))})"
