"""Background tasks started from synchronous code (trio).

trio has no "create a task from a callback" outside a nursery; like connections and
timers, a spawned task runs as a system task (``spawn_background``) inside its own
``CancelScope``, so ``cancel()`` ends it without touching anything else. Its errors are
caught and logged: a system task that raises would crash the whole ``trio.run``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import trio

from .._connection import logger
from ._sync import spawn_background

__all__ = ["TrioTaskHandle", "spawn"]


class TrioTaskHandle:
    """``cancel()``, ``done()`` and ``await wait()`` over one background task."""

    __slots__ = ("_done", "_event", "_name", "_scope")

    def __init__(self, name: str) -> None:
        self._name = name
        self._scope = trio.CancelScope()
        self._done = False
        self._event: trio.Event | None = None

    def cancel(self) -> None:
        """Cancel the task; before it has started, it ends at its first checkpoint."""
        self._scope.cancel()

    def done(self) -> bool:
        return self._done

    async def wait(self) -> None:
        """Wait until the task has finished (whatever the outcome); never raises its error.

        Cancelling the waiter does not cancel the task.
        """
        if self._done:
            await trio.lowlevel.checkpoint()
            return
        if self._event is None:
            self._event = trio.Event()
        await self._event.wait()

    async def _run(self, func: Callable[..., Awaitable[object]], args: tuple[Any, ...]) -> None:
        try:
            with self._scope:
                await func(*args)
        except Exception:
            logger.exception("background task %r failed", self._name)
        finally:
            self._done = True
            if self._event is not None:
                self._event.set()

    def __repr__(self) -> str:
        state = "done" if self._done else "running"
        return f"<TrioTaskHandle {self._name!r} {state}>"


def spawn(
    func: Callable[..., Awaitable[object]], *args: Any, name: str | None = None
) -> TrioTaskHandle:
    if name is None:
        name = str(getattr(func, "__qualname__", func))
    handle = TrioTaskHandle(name)
    spawn_background(handle._run, func, args, name=handle._name)
    return handle
