"""trio task groups, deadline scopes, re-armable timers and background tasks."""

from __future__ import annotations

import contextvars
import math
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import trio

from .._timer import BaseTimer

__all__ = ["TrioDeadline", "TrioTaskGroup", "TrioTimer", "spawn_background"]


def spawn_background(func: Callable[..., Awaitable[object]], *args: Any, name: str) -> None:
    """Run ``func`` for as long as the trio run lasts, like a callback scheduled on a loop.

    Connections, accept loops and timers outlive the call that creates them (as asyncio
    transports do), so they run as system tasks with the caller's contextvars. They must
    never raise anything but ``Cancelled``: each catches and logs its own errors.
    """
    trio.lowlevel.spawn_system_task(func, *args, name=name, context=contextvars.copy_context())


class TrioTaskGroup:
    """A nursery whose ``cancel()`` cancels the started tasks but not the body."""

    __slots__ = ("_manager", "_nursery", "_scopes")

    def __init__(self) -> None:
        self._manager = trio.open_nursery()
        self._nursery: trio.Nursery | None = None
        self._scopes: set[trio.CancelScope] = set()

    async def __aenter__(self) -> TrioTaskGroup:
        self._nursery = await self._manager.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        return await self._manager.__aexit__(et, e, tb)

    def start_soon(
        self, func: Callable[..., Awaitable[object]], *args: object, name: str | None = None
    ) -> None:
        if self._nursery is None:
            raise RuntimeError("task group is not open; use 'async with backend.task_group()'")
        self._nursery.start_soon(self._run, func, args, name=name or func)

    async def _run(self, func: Callable[..., Awaitable[object]], args: tuple[object, ...]) -> None:
        with trio.CancelScope() as scope:
            self._scopes.add(scope)
            try:
                await func(*args)
            finally:
                self._scopes.discard(scope)

    def cancel(self) -> None:
        for scope in list(self._scopes):
            scope.cancel()


class TrioDeadline:
    """``trio.CancelScope(deadline=...)`` whose own expiry raises ``TimeoutError``."""

    __slots__ = ("_deadline", "_scope")

    def __init__(self, deadline: float | None) -> None:
        self._deadline = deadline
        self._scope = trio.CancelScope(deadline=math.inf if deadline is None else deadline)

    @property
    def deadline(self) -> float | None:
        return self._deadline

    @deadline.setter
    def deadline(self, value: float | None) -> None:
        self._deadline = value
        self._scope.deadline = math.inf if value is None else value

    @property
    def expired(self) -> bool:
        return self._scope.cancelled_caught

    def __enter__(self) -> TrioDeadline:
        self._scope.__enter__()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        # Raises itself when an outer cancellation or another error must go on.
        handled = self._scope.__exit__(et, e, tb)
        if handled and self._scope.cancelled_caught:
            raise TimeoutError("deadline exceeded") from e
        return handled


class TrioTimer(BaseTimer):
    """One task per timer sleeping in a ``CancelScope`` whose deadline is moved on re-arm.

    The task starts on the first ``arm`` and ends on ``close()``. Re-arming later (a
    server's keep-alive timer, once per request) only records the new deadline: the
    scope keeps its earlier one and, when that passes, the task re-checks and sleeps
    again. Only an earlier deadline moves ``scope.deadline`` (trio's deadline heap).
    """

    __slots__ = ("_scope", "_spawned")

    def __init__(self, callback: Callable[[], object]) -> None:
        super().__init__(callback)
        self._scope: trio.CancelScope | None = None
        self._spawned = False

    def arm(self, deadline: float) -> None:
        self._set_deadline(deadline)
        scope = self._scope
        if scope is not None:
            if deadline < scope.deadline:
                scope.deadline = deadline
        elif not self._spawned:
            self._spawned = True
            spawn_background(self._run, name=f"treadle timer {self._callback!r}")

    def arm_after(self, delay: float) -> None:
        self.arm(trio.current_time() + delay)

    def cancel(self) -> None:
        self._deadline = None  # the task wakes at the scope's deadline and finds none

    def close(self) -> None:
        self._closed = True
        self._deadline = None
        if self._scope is not None:
            self._scope.cancel()

    async def _run(self) -> None:
        while not self._closed:
            deadline = self._deadline
            with trio.CancelScope(deadline=math.inf if deadline is None else deadline) as scope:
                self._scope = scope
                try:
                    await trio.sleep_forever()
                finally:
                    self._scope = None
            deadline = self._deadline
            if self._closed or deadline is None or trio.current_time() < deadline:
                continue  # closed, disarmed, or moved later after the old deadline passed
            self._expire()
