"""Background tasks started from synchronous code (trio).

trio has no "create a task from a callback" outside a nursery; like connections and
timers, a spawned task runs as a system task (``spawn_background``). Its errors are
caught and logged: a system task that raises would crash the whole ``trio.run``.

Starting a trio task, and entering a ``CancelScope`` for it, costs far more than the
work a server does for a small request, so finished tasks are kept: an idle worker (up
to ``MAX_IDLE_WORKERS`` per run) takes the next ``spawn`` instead of a new system task.

- Each job runs in a fresh copy of the spawner's contextvars: the worker's
  ``Task.context`` is replaced before it is woken (trio runs every step of a task in
  that context), so nothing a job sets is seen by the next one.
- ``cancel()`` cancels the worker's current ``CancelScope`` while the handle's job is
  the one running (or as soon as it starts); the cancelled scope ends with that job and
  the worker opens a new one. Jobs that are never cancelled share one scope, so no
  scope is entered per job.
- Idle workers do not outlive a lull: one reaper task (only while some are idle)
  retires those idle for a whole ``IDLE_SECONDS`` period, so a quiet server holds no
  tasks beyond its connections.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from .._connection import logger
from ._sync import spawn_background

__all__ = ["IDLE_SECONDS", "MAX_IDLE_WORKERS", "TrioTaskHandle", "spawn"]

MAX_IDLE_WORKERS = 64
"""Finished background tasks kept per ``trio.run`` to run the next ``spawn``."""
IDLE_SECONDS = 0.5
"""A worker idle for a whole period of this length (so 0.5 to 1 s) ends."""


class _Pool:
    """The idle workers of one ``trio.run``, and their reaper."""

    __slots__ = ("generation", "idle", "reaping")

    def __init__(self) -> None:
        self.idle: list[_Worker] = []
        self.generation = 0
        self.reaping = False

    def park(self, worker: _Worker) -> None:
        self.idle.append(worker)
        worker._parked = self.generation
        if not self.reaping:
            self.reaping = True
            spawn_background(self._reap, name="treadle idle-worker reaper")

    async def _reap(self) -> None:
        try:
            while self.idle:
                await trio.sleep(IDLE_SECONDS)
                generation = self.generation
                keep = []
                for worker in self.idle:
                    if worker._parked == generation:
                        keep.append(worker)  # parked during this period: one more
                    else:
                        worker._retire()
                self.idle[:] = keep
                self.generation = generation + 1
        finally:
            self.reaping = False


_POOL: trio.lowlevel.RunVar[_Pool] = trio.lowlevel.RunVar("treadle_worker_pool")

Job = Callable[..., Awaitable[object]]


class TrioTaskHandle:
    """``cancel()``, ``done()`` and ``await wait()`` over one background job."""

    __slots__ = ("_cancel_requested", "_done", "_event", "_name", "_worker")

    def __init__(self, name: str | None) -> None:
        self._name = name  # None: named after the function when it matters (logs, repr)
        self._worker: _Worker | None = None  # set while the job runs
        self._cancel_requested = False
        self._done = False
        self._event: trio.Event | None = None

    def cancel(self) -> None:
        """Cancel the job; before it has started, it ends at its first checkpoint."""
        if self._done:
            return
        self._cancel_requested = True
        worker = self._worker
        if worker is not None and worker._scope is not None:
            worker._scope.cancel()

    def done(self) -> bool:
        return self._done

    async def wait(self) -> None:
        """Wait until the job has finished (whatever the outcome); never raises its error.

        Cancelling the waiter does not cancel the job.
        """
        if self._done:
            await trio.lowlevel.checkpoint()
            return
        if self._event is None:
            self._event = trio.Event()
        await self._event.wait()

    def _finish(self) -> None:
        self._worker = None
        self._done = True
        if self._event is not None:
            self._event.set()

    def __repr__(self) -> str:
        state = "done" if self._done else "running"
        return f"<TrioTaskHandle {self._name!r} {state}>"


def _name_of(func: Callable[..., object]) -> str:
    return str(getattr(func, "__qualname__", func))


class _Worker:
    """A system task running spawned jobs one after another, parked while idle."""

    __slots__ = ("_args", "_func", "_handle", "_parked", "_pool", "_scope", "_task")

    def __init__(
        self, pool: _Pool, handle: TrioTaskHandle, func: Job, args: tuple[Any, ...]
    ) -> None:
        self._pool = pool
        self._parked = 0
        self._task: trio.lowlevel.Task | None = None
        self._scope: trio.CancelScope | None = None
        self._handle: TrioTaskHandle | None = handle
        self._func: Job | None = func
        self._args: tuple[Any, ...] = args

    def _give(self, handle: TrioTaskHandle, func: Job, args: tuple[Any, ...]) -> None:
        task = self._task
        assert task is not None
        self._handle, self._func, self._args = handle, func, args
        task.context = contextvars.copy_context()
        trio.lowlevel.reschedule(task)

    def _retire(self) -> None:
        """Wake a parked worker without a job: it ends (the reaper has unlisted it)."""
        assert self._task is not None
        trio.lowlevel.reschedule(self._task)

    def _abort(self, raise_cancel: object) -> trio.lowlevel.Abort:
        # Cancelled while parked (the run is ending): leave the pool, let Cancelled out.
        idle = self._pool.idle
        if self in idle:
            idle.remove(self)
        return trio.lowlevel.Abort.SUCCEEDED

    async def _park(self) -> bool:
        """Wait for the next job; False when retired or enough workers are idle."""
        pool = self._pool
        if len(pool.idle) >= MAX_IDLE_WORKERS:
            return False
        pool.park(self)
        await trio.lowlevel.wait_task_rescheduled(self._abort)
        return self._handle is not None

    async def _run_job(self, scope: trio.CancelScope) -> None:
        handle, func, args = self._handle, self._func, self._args
        assert handle is not None and func is not None
        self._handle = self._func = None
        self._args = ()
        handle._worker = self
        if handle._cancel_requested:
            scope.cancel()  # cancelled before it started: ends at its first checkpoint
        try:
            await func(*args)
        except Exception:
            logger.exception("background task %r failed", handle._name or _name_of(func))
        finally:
            handle._finish()

    async def run(self) -> None:
        self._task = trio.lowlevel.current_task()
        while True:
            with trio.CancelScope() as scope:
                self._scope = scope
                while True:
                    await self._run_job(scope)
                    if scope.cancel_called:
                        break  # the job swallowed its cancellation: a fresh scope next
                    if not await self._park():
                        return
            # A job was cancelled: its scope is spent. Wait for the next job outside it.
            self._scope = None
            if not await self._park():
                return


def spawn(func: Job, *args: Any, name: str | None = None) -> TrioTaskHandle:
    handle = TrioTaskHandle(name)
    try:
        pool = _POOL.get()
    except LookupError:
        pool = _Pool()
        _POOL.set(pool)
    idle = pool.idle
    if idle:
        idle.pop()._give(handle, func, args)  # the most recently parked: keeps others idle
    else:
        worker = _Worker(pool, handle, func, args)
        spawn_background(worker.run, name=name or f"treadle worker ({_name_of(func)})")
    return handle
