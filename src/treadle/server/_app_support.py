"""What ``Application`` is built from: typed state keys, cleanup contexts, the chain.

Kept apart from ``_app.py`` so the class itself stays a readable list of aiohttp's
public methods.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import AsyncIterator, Callable
from functools import lru_cache, partial, update_wrapper
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._signals import FrozenList

if TYPE_CHECKING:
    from ._app import Application

__all__ = [
    "AppKey",
    "CleanupContext",
    "CleanupError",
    "build_legacy_chain",
    "build_middleware_chain",
    "prepare_middlewares",
]

T = TypeVar("T")

Handler = Callable[[Any], Any]
Middleware = Callable[..., Any]


class AppKey(Generic[T]):
    """A typed key for application state: ``KEY = web.AppKey("KEY", int); app[KEY] = 1``.

    Keys compare by identity, so two modules' keys never collide even with one name.
    """

    __slots__ = ("__orig_class__", "_name", "_t")

    def __init__(self, name: str, t: type[T] | None = None) -> None:
        # The defining module's name makes the repr say where the key comes from.
        frame = sys._getframe(1)
        module = frame.f_globals.get("__name__", "")
        self._name = name if module in ("", "__main__") else f"{module}.{name}"
        self._t = t

    def __lt__(self, other: object) -> bool:
        if isinstance(other, AppKey):
            return self._name < other._name
        return True  # AppKeys sort before str keys

    def __repr__(self) -> str:
        t = self._t
        if t is None:
            t_repr = "<<Unknown>>"
        elif isinstance(t, type):
            qualname = t.__qualname__
            t_repr = qualname if t.__module__ == "builtins" else f"{t.__module__}.{qualname}"
        else:
            t_repr = repr(t)
        return f"<AppKey({self._name}, type={t_repr})>"


class CleanupError(RuntimeError):
    """One or more cleanup contexts failed while the application shut down."""

    @property
    def exceptions(self) -> list[BaseException]:
        return list(self.args[1])


CleanupCallback = Callable[["Application"], AsyncIterator[None]]


class CleanupContext(FrozenList):
    """``app.cleanup_ctx``: async generators run to their ``yield`` on startup and
    resumed, in reverse order, on cleanup (aiohttp's ``CleanupContext``)."""

    __slots__ = ("_exits",)

    def __init__(self) -> None:
        super().__init__()
        self._exits: list[AsyncIterator[None]] = []

    async def _on_startup(self, app: Application) -> None:
        for callback in self:
            iterator = callback(app).__aiter__()
            await iterator.__anext__()
            self._exits.append(iterator)

    async def _on_cleanup(self, app: Application) -> None:
        errors: list[BaseException] = []
        for iterator in reversed(self._exits):
            try:
                await iterator.__anext__()
            except StopAsyncIteration:
                pass
            except (Exception, BaseExceptionGroup) as exc:
                errors.append(exc)
            else:
                errors.append(RuntimeError(f"{iterator!r} has more than one 'yield'"))
        self._exits.clear()
        if errors:
            if len(errors) == 1:
                raise errors[0]
            raise CleanupError("Multiple errors on cleanup stage", errors)


def _fix_current_app(app: Application) -> Middleware:
    """Make ``app`` the request's ``current_app`` while its own middlewares run."""

    async def impl(request: Any, handler: Handler) -> Any:
        with request.match_info.set_current_app(app):
            return await handler(request)

    return impl


def prepare_middlewares(app: Application) -> tuple[tuple[Middleware, bool], ...]:
    """``(middleware, new_style)`` pairs of ``app``, innermost first (aiohttp's rule).

    A middleware marked with ``@web.middleware`` is ``async def mw(request, handler)``.
    An unmarked one is, as in aiohttp 3.x, an old-style factory
    ``async def factory(app, handler) -> handler`` (deprecated there and here).
    """
    pairs: list[tuple[Middleware, bool]] = []
    for middleware in reversed(app._middlewares):
        if getattr(middleware, "__middleware_version__", None) == 1:
            pairs.append((middleware, True))
        else:
            warnings.warn(
                f'old-style middleware "{middleware!r}" deprecated: mark '
                "'async def mw(request, handler)' with @web.middleware",
                DeprecationWarning,
                stacklevel=4,
            )
            pairs.append((middleware, False))
    pairs.append((_fix_current_app(app), True))
    return tuple(pairs)


@lru_cache(maxsize=1024)
def build_middleware_chain(handler: Handler, apps: tuple[Application, ...]) -> Handler:
    """Wrap ``handler`` in the middlewares of ``apps`` (outermost application first).

    The root application's first middleware is the outermost layer; each sub-app's
    middlewares run inside its parents', with ``current_app`` set to that sub-app.
    Cached per (handler, app stack): building partials on every request would cost
    more than the middlewares themselves. New-style middlewares only.
    """
    for app in reversed(apps):
        for middleware, _ in app._middlewares_handlers:
            handler = update_wrapper(partial(middleware, handler=handler), handler)
    return handler


async def build_legacy_chain(handler: Handler, apps: tuple[Application, ...]) -> Handler:
    """The same chain when old-style factories are involved (built per request)."""
    for app in reversed(apps):
        for middleware, new_style in app._middlewares_handlers:
            if new_style:
                handler = update_wrapper(partial(middleware, handler=handler), handler)
            else:
                handler = await middleware(app, handler)
    return handler
