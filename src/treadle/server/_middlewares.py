"""Middleware helpers: the ``@middleware`` marker and ``normalize_path_middleware``."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ._exceptions import HTTPMove, HTTPPermanentRedirect
from ._matchinfo import SystemRoute

__all__ = ["middleware", "normalize_path_middleware"]

F = TypeVar("F", bound=Callable[..., Any])

_SLASHES = re.compile(r"//+")
_LEADING_SLASHES = re.compile(r"^//+")


def middleware(func: F) -> F:
    """Mark ``async def mw(request, handler)`` as a (new-style) middleware.

    As in aiohttp 3.x, an unmarked middleware is taken for an old-style factory
    ``async def factory(app, handler) -> handler``.
    """
    func.__middleware_version__ = 1  # type: ignore[attr-defined]
    return func


def normalize_path_middleware(
    *,
    append_slash: bool = True,
    remove_slash: bool = False,
    merge_slashes: bool = True,
    redirect_class: type[HTTPMove] = HTTPPermanentRedirect,
) -> Callable[[Any, Callable[[Any], Awaitable[Any]]], Awaitable[Any]]:
    """Redirect a path that does not resolve to a variant of it that does.

    Tried in this order (as aiohttp): merged slashes, an appended (or removed) slash,
    both. Only requests whose route is a miss (404/405) are looked at; the redirect
    keeps the query string. A path that would start with ``//`` is never produced (an
    open redirect to another host, GHSA-v6wp-4m6f-gcjg).
    """
    if append_slash and remove_slash:
        raise ValueError("Cannot both remove and append slash")

    @middleware
    async def impl(request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        if isinstance(request.match_info.route, SystemRoute):
            raw_path = request.raw_path
            path, sep, query = raw_path.partition("?")
            query = sep + query
            candidates: list[str] = []
            if merge_slashes:
                candidates.append(_SLASHES.sub("/", path))
            if append_slash and not path.endswith("/"):
                candidates.append(path + "/")
            if remove_slash and path.endswith("/"):
                candidates.append(path[:-1])
            if merge_slashes and append_slash:
                candidates.append(_SLASHES.sub("/", path + "/"))
            if merge_slashes and remove_slash:
                candidates.append(_SLASHES.sub("/", path)[:-1])
            router = request.app.router
            host = request.host
            for candidate in candidates:
                candidate = _LEADING_SLASHES.sub("/", candidate)
                if not candidate or candidate == path:
                    continue
                match_info = router.resolve(request.method, candidate, host)
                if match_info.http_exception is None:
                    raise redirect_class(candidate + query)
        return await handler(request)

    return impl
