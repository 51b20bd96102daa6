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

_running: set[AsyncioTaskHandle] = set()


class AsyncioTaskHandle:
    """``cancel()``, ``done()`` and ``await wait()`` over one ``asyncio.Task``."""

    __slots__ = ("_cancel_requested", "_name", "_started", "_task")

    _task: asyncio.Task[None]

    def __init__(self, name: str | None) -> None:
        self._name = name
        self._started = False
        self._cancel_requested = False

    def cancel(self) -> None:
        """Cancel the task; one not started yet still starts and sees the cancellation.

        ``Task.cancel()`` before the first step would throw into a coroutine that never
        ran, skipping its ``try``/``finally`` (trio's system tasks always run theirs).
        Deferring it to the task's first step gives both backends the same semantics:
        the function starts and is cancelled at its first ``await``.
        """
        if self._started:
            self._task.cancel()
        else:
            self._cancel_requested = True

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


async def _guard(
    handle: AsyncioTaskHandle, func: Callable[..., Awaitable[object]], args: tuple[Any, ...]
) -> None:
    # Bookkeeping in the task itself, not in a done callback: one fewer loop callback
    # per task, which matters for a server starting one task per request.
    handle._started = True
    if handle._cancel_requested:
        handle._task.cancel()  # delivered at func's first await, inside its try blocks
    try:
        await func(*args)
    except Exception:
        logger.exception("background task %r failed", handle._name or func)
    finally:
        _running.discard(handle)


def spawn(
    func: Callable[..., Awaitable[object]], *args: Any, name: str | None = None
) -> AsyncioTaskHandle:
    handle = AsyncioTaskHandle(name)
    loop = asyncio.get_running_loop()
    coro = _guard(handle, func, args)
    if (
        name is None
        and type(loop).create_task is _BASE_CREATE_TASK
        and loop.get_task_factory() is None
    ):
        # What BaseEventLoop.create_task does in that case, without its Python frame
        # (a server spawns one task per request). uvloop's create_task is compiled.
        handle._task = asyncio.Task(coro, loop=loop)
    else:
        handle._task = loop.create_task(coro, name=name)
    _running.add(handle)
    return handle


_BASE_CREATE_TASK = asyncio.BaseEventLoop.create_task
