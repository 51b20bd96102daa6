"""Background tasks started from synchronous code (asyncio and uvloop).

A server starts one task per request from inside ``data_received``; the task must
outlive that callback and nobody ``await``s it. asyncio keeps only weak references to
tasks, so the live ones are held here until they finish, and an error nobody collects is
logged instead of reaching the loop's "exception was never retrieved" warning.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from .._connection import logger

__all__ = ["AsyncioTaskHandle", "spawn"]

_running: set[asyncio.Task[Any]] = set()


class AsyncioTaskHandle:
    """``cancel()``, ``done()`` and ``await wait()`` over one ``asyncio.Task``."""

    __slots__ = ("_task",)

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self._task = task

    def cancel(self) -> None:
        self._task.cancel()

    def done(self) -> bool:
        return self._task.done()

    async def wait(self) -> None:
        """Wait until the task has finished (whatever the outcome); never raises its error.

        Cancelling the waiter does not cancel the task.
        """
        if not self._task.done():
            await asyncio.wait((self._task,))

    def __repr__(self) -> str:
        return f"<AsyncioTaskHandle {self._task!r}>"


def _finished(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        logger.error("background task %r failed", task.get_name(), exc_info=exc)


def spawn(
    func: Callable[..., Awaitable[object]], *args: Any, name: str | None = None
) -> AsyncioTaskHandle:
    coro = func(*args)
    task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(coro, name=name)  # type: ignore[arg-type]
    _running.add(task)
    task.add_done_callback(_finished)
    return AsyncioTaskHandle(task)
