"""asyncio task groups, deadline scopes and re-armable timers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any

from .._timer import BaseTimer

__all__ = ["AsyncioDeadline", "AsyncioEvent", "AsyncioTaskGroup", "AsyncioTimer"]


class AsyncioEvent:
    """``asyncio.Event``'s set/is_set/wait, lean enough to make one per wait.

    ``asyncio.Event`` binds itself to the loop on its first wait under a process-wide
    lock, and keeps a deque; hot paths (a WebSocket's ``receive``, a body read) create
    an event per wait, where that cost showed (about 3 µs per wait). Waiters are futures
    of the running loop; cancelled ones are dropped as the list is reused.
    """

    __slots__ = ("_value", "_waiters")

    def __init__(self) -> None:
        self._value = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if self._value:
            return
        self._value = True
        waiters = self._waiters
        if waiters:
            self._waiters = None
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)

    async def wait(self) -> bool:
        if self._value:
            return True
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._waiters
        if waiters is None:
            waiters = self._waiters = []
        elif len(waiters) > 16:  # waits cancelled before a set(): forget them
            waiters[:] = [waiter for waiter in waiters if not waiter.done()]
        waiters.append(fut)
        await fut
        return True


class AsyncioTaskGroup:
    """``asyncio.TaskGroup`` plus ``cancel()`` of the tasks it started."""

    __slots__ = ("_group", "_tasks")

    def __init__(self) -> None:
        self._group = asyncio.TaskGroup()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def __aenter__(self) -> AsyncioTaskGroup:
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        await self._group.__aexit__(et, e, tb)
        return None

    def start_soon(
        self, func: Callable[..., Awaitable[object]], *args: object, name: str | None = None
    ) -> None:
        coro: Coroutine[Any, Any, object] = func(*args)  # type: ignore[assignment]
        try:
            task = self._group.create_task(coro, name=name)
        except BaseException:
            coro.close()
            raise
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()


class AsyncioDeadline:
    """``asyncio.timeout_at`` as a plain ``with`` block, with a movable deadline.

    Expiry cancels the task and turns that one cancellation into ``TimeoutError`` using
    the task's cancel counter (as ``asyncio.Timeout`` does), so an outer cancellation -
    an anyio cancel scope, ``task.cancel()`` - is never swallowed or converted. Moving the
    deadline later keeps the scheduled callback and re-checks when it fires.
    """

    __slots__ = ("_cancelling", "_deadline", "_expired", "_handle", "_loop", "_scheduled", "_task")

    def __init__(self, loop: asyncio.AbstractEventLoop, deadline: float | None) -> None:
        self._loop = loop
        self._deadline = deadline
        self._task: asyncio.Task[Any] | None = None
        self._handle: asyncio.TimerHandle | asyncio.Handle | None = None
        self._scheduled = 0.0
        self._expired = False
        self._cancelling = 0

    @property
    def deadline(self) -> float | None:
        return self._deadline

    @deadline.setter
    def deadline(self, value: float | None) -> None:
        self._deadline = value
        if self._task is None or self._expired:
            return
        if value is None:
            self._unschedule()
        elif self._handle is None or value < self._scheduled:
            self._schedule()

    @property
    def expired(self) -> bool:
        return self._expired

    def __enter__(self) -> AsyncioDeadline:
        task = asyncio.current_task(self._loop)
        if task is None:
            raise RuntimeError("fail_at()/fail_after() must be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        if self._deadline is not None:
            self._schedule()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        self._unschedule()
        task, self._task = self._task, None
        if (
            self._expired
            and task is not None
            and task.uncancel() <= self._cancelling
            and et is asyncio.CancelledError
        ):
            raise TimeoutError("deadline exceeded") from e
        return None

    def _schedule(self) -> None:
        self._unschedule()
        deadline = self._deadline
        assert deadline is not None
        self._scheduled = deadline
        if deadline <= self._loop.time():
            self._handle = self._loop.call_soon(self._on_deadline)
        else:
            self._handle = self._loop.call_at(deadline, self._on_deadline)

    def _unschedule(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _on_deadline(self) -> None:
        self._handle = None
        deadline = self._deadline
        if deadline is None or self._task is None:
            return
        if deadline > self._scheduled:  # moved later since scheduling: wait some more
            self._schedule()
            return
        self._expired = True
        self._task.cancel()


class AsyncioTimer(BaseTimer):
    """One ``loop.call_at`` handle, re-armed in place; fires the callback at most once per arm."""

    __slots__ = ("_handle", "_loop", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], object]) -> None:
        super().__init__(callback)
        self._loop = loop
        self._handle: asyncio.TimerHandle | None = None
        self._scheduled = 0.0

    def arm(self, deadline: float) -> None:
        self._set_deadline(deadline)
        if self._handle is not None:
            if deadline >= self._scheduled:
                return  # _fire notices the later deadline and reschedules once
            self._handle.cancel()
        self._scheduled = deadline
        self._handle = self._loop.call_at(deadline, self._fire)

    def arm_after(self, delay: float) -> None:
        self.arm(self._loop.time() + delay)

    def cancel(self) -> None:
        self._deadline = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def close(self) -> None:
        self.cancel()
        self._closed = True

    def _fire(self) -> None:
        self._handle = None
        deadline = self._deadline
        if deadline is None:
            return
        if deadline > self._scheduled:
            self._scheduled = deadline
            self._handle = self._loop.call_at(deadline, self._fire)
            return
        self._expire()
