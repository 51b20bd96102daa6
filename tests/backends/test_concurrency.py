"""Timers, deadline scopes, task groups, sync primitives, threads and backend detection."""

from __future__ import annotations

import contextvars
import threading

import anyio
import pytest
import sniffio

from treadle.backends import (
    Backend,
    Lock,
    Semaphore,
    UnsupportedAsyncLibraryError,
    _detect,
    get_backend,
)

from .conftest import task_count, wait_for_tasks

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.timeout(30),
    # A socket closed by the garbage collector instead of treadle is a leak.
    pytest.mark.filterwarnings("error::ResourceWarning"),
]

# Loops may fire a timer up to one clock tick early (uvloop's clock has 1 ms ticks).
RESOLUTION = 0.002

_REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


async def test_timer_rearmed_many_times_fires_once_at_the_last_deadline() -> None:
    backend = get_backend()
    fired: list[float] = []
    timer = backend.create_timer(lambda: fired.append(backend.current_time()))
    try:
        start = backend.current_time()
        tasks_before = task_count()
        final = start
        for i in range(2000):
            # Mostly later, sometimes earlier: every re-arm must move the single deadline.
            final = start + 0.05 + (i % 7) * 0.001 + i * 0.00005
            timer.arm(final)
        assert timer.deadline == final
        assert task_count() <= tasks_before + 1  # at most one task per timer (trio)
        # Keep pushing it back from a running loop, as an idle timeout does.
        for _ in range(5):
            await backend.sleep(0.02)
            final = backend.current_time() + 0.08
            timer.arm(final)
        assert fired == []
        with anyio.fail_after(5):
            while not fired:
                await backend.sleep(0.005)
        await backend.sleep(0.1)
        assert len(fired) == 1
        assert final - RESOLUTION <= fired[0] < final + 0.1
        assert timer.deadline is None
        # Re-arming earlier than the pending deadline fires at the earlier one.
        timer.arm_after(10)
        early = backend.current_time() + 0.03
        timer.arm(early)
        with anyio.fail_after(5):
            while len(fired) < 2:
                await backend.sleep(0.005)
        assert early - RESOLUTION <= fired[1] < early + 0.1
    finally:
        timer.close()
    with pytest.raises(RuntimeError):
        timer.arm(0)


async def test_timer_cancel_and_close() -> None:
    backend = get_backend()
    fired: list[int] = []
    tasks_before = task_count()
    timer = backend.create_timer(lambda: fired.append(1))
    timer.arm_after(0.02)
    timer.cancel()
    assert timer.deadline is None
    await backend.sleep(0.06)
    assert fired == []
    timer.arm_after(0.02)
    timer.close()
    await backend.sleep(0.06)
    assert fired == []
    # close() ends the timer's task (trio; asyncio timers have none), even while armed
    # far ahead.
    idle = backend.create_timer(lambda: fired.append(2))
    idle.arm_after(60)
    await backend.sleep(0.01)  # the timer's task is now sleeping towards its deadline
    idle.close()
    assert await wait_for_tasks(backend, tasks_before) <= tasks_before


async def test_deadline_scope_raises_timeout_error_and_can_be_moved() -> None:
    backend = get_backend()
    start = backend.current_time()
    with pytest.raises(TimeoutError), backend.fail_after(0.05) as scope:
        await backend.sleep(5)
    assert scope.expired
    assert 0.04 <= backend.current_time() - start < 1

    start = backend.current_time()
    with pytest.raises(TimeoutError), backend.fail_after(0.05) as scope:
        for _ in range(5):
            await backend.sleep(0.03)
            scope.deadline = backend.current_time() + 0.05  # re-arm
        await backend.sleep(5)
    elapsed = backend.current_time() - start
    assert 0.15 + 0.04 <= elapsed < 1.5

    with backend.fail_at(None) as scope:
        await backend.sleep(0.01)
        scope.deadline = backend.current_time() + 10
        await backend.sleep(0.01)
        scope.deadline = None
    assert not scope.expired

    start = backend.current_time()
    with pytest.raises(TimeoutError), backend.fail_after(5) as scope:
        await backend.sleep(0.01)
        scope.deadline = backend.current_time() + 0.02  # moved earlier while pending
        await backend.sleep(5)
    assert backend.current_time() - start < 1


async def test_outer_cancellation_is_never_swallowed() -> None:
    backend = get_backend()
    reached: list[str] = []
    with anyio.CancelScope() as outer:
        with backend.fail_after(10):
            async with anyio.create_task_group() as tg:

                async def cancel_soon() -> None:
                    await anyio.sleep(0.02)
                    outer.cancel()

                tg.start_soon(cancel_soon)
                await backend.sleep(5)
                reached.append("after sleep")
        reached.append("after deadline scope")  # must not run: still cancelled
    assert outer.cancelled_caught
    assert reached == []

    # The outer anyio deadline comes first: it owns the cancellation, not our scope.
    with anyio.move_on_after(0.02) as outer2:
        with backend.fail_after(0.05):
            await backend.sleep(5)
        reached.append("swallowed")
    assert reached == [] and outer2.cancelled_caught

    # The other way round: our deadline inside anyio's scope is a TimeoutError.
    with anyio.CancelScope() as outer3:
        with pytest.raises(TimeoutError), backend.fail_after(0.01):
            await backend.sleep(5)
    assert not outer3.cancelled_caught


async def test_task_group_runs_cancels_and_propagates() -> None:
    backend = get_backend()
    results: list[int] = []

    async def work(n: int) -> None:
        await backend.sleep(0.01 * n)
        results.append(n)

    async with backend.task_group() as tg:
        for n in (3, 1, 2):
            tg.start_soon(work, n, name=f"work-{n}")
    assert results == [1, 2, 3]

    cancelled: list[str] = []

    async def forever() -> None:
        try:
            await backend.sleep(60)
        finally:
            cancelled.append("cleaned up")

    start = backend.current_time()
    async with backend.task_group() as tg:
        tg.start_soon(forever)
        tg.start_soon(forever)
        await backend.sleep(0.01)
        tg.cancel()
        await backend.sleep(0.01)
        results.append(99)  # the body itself keeps running after cancel()
    assert cancelled == ["cleaned up", "cleaned up"]
    assert results[-1] == 99
    assert backend.current_time() - start < 5

    async def boom() -> None:
        await backend.sleep(0.01)
        raise ValueError("task failed")

    with pytest.raises(ExceptionGroup) as info:
        async with backend.task_group() as tg:
            tg.start_soon(forever)
            tg.start_soon(boom)
    assert info.group_contains(ValueError)

    # start_soon from a synchronous callback (what handlers do).
    done = backend.create_event()
    async with backend.task_group() as tg:

        async def set_done() -> None:
            done.set()

        timer = backend.create_timer(lambda: tg.start_soon(set_done))
        timer.arm_after(0.01)
        with anyio.fail_after(5):
            await done.wait()
        timer.close()


async def _peak_holders(backend: Backend, guard: Lock | Semaphore, tasks: int) -> int:
    """How many of ``tasks`` concurrent tasks held ``guard`` at the same time, at most."""
    inside = peak = 0

    async def hold() -> None:
        nonlocal inside, peak
        async with guard:
            inside += 1
            peak = max(peak, inside)
            await backend.sleep(0.005)
            inside -= 1

    async with backend.task_group() as tg:
        for _ in range(tasks):
            tg.start_soon(hold)
    return peak


async def test_events_locks_semaphores() -> None:
    backend = get_backend()
    event = backend.create_event()
    assert not event.is_set()
    async with backend.task_group() as tg:

        async def setter() -> None:
            await backend.sleep(0.01)
            event.set()

        tg.start_soon(setter)
        with anyio.fail_after(5):
            await event.wait()
    assert event.is_set()

    lock = backend.create_lock()
    assert await _peak_holders(backend, lock, tasks=5) == 1
    assert not lock.locked()

    semaphore = backend.create_semaphore(2)
    assert await _peak_holders(backend, semaphore, tasks=6) == 2
    await semaphore.acquire()
    semaphore.release()


async def test_run_in_thread_sleep_and_time() -> None:
    backend = get_backend()
    main_thread = threading.get_ident()
    value, thread = await backend.run_in_thread(lambda a, b: (a + b, threading.get_ident()), 1, 2)
    assert value == 3 and thread != main_thread
    value, thread = await backend.run_in_thread(lambda: (42, threading.get_ident()))
    assert value == 42 and thread != main_thread
    # The caller's contextvars are visible in the thread.
    token = _REQUEST_ID.set("from the caller")
    try:
        assert await backend.run_in_thread(_REQUEST_ID.get) == "from the caller"
    finally:
        _REQUEST_ID.reset(token)

    def fail() -> None:
        raise KeyError("from thread")

    with pytest.raises(KeyError):
        await backend.run_in_thread(fail)
    start = backend.current_time()
    await backend.sleep(0.03)
    assert backend.current_time() - start >= 0.025
    await backend.checkpoint()


async def test_get_backend_detects_and_caches(anyio_backend: object) -> None:
    backend = get_backend()
    assert backend is get_backend()
    assert backend.name == sniffio.current_async_library()
    if backend.name == "asyncio":
        import asyncio

        # Handler callbacks run outside any task: detection must still work there.
        seen = []
        loop = asyncio.get_running_loop()
        loop.call_soon(lambda: seen.append(get_backend()))
        await asyncio.sleep(0.01)
        assert seen == [backend]
    original = _detect.sniffio.current_async_library
    _detect.sniffio.current_async_library = lambda: "curio"  # type: ignore[assignment]
    try:
        with pytest.raises(UnsupportedAsyncLibraryError, match="curio"):
            get_backend()
    finally:
        _detect.sniffio.current_async_library = original  # type: ignore[assignment]


def test_get_backend_outside_a_loop() -> None:
    with pytest.raises(UnsupportedAsyncLibraryError, match="outside of an event loop") as info:
        get_backend()
    assert isinstance(info.value, RuntimeError)


def test_nothing_above_backends_imports_asyncio_or_trio() -> None:
    """Only backends/ may import asyncio, uvloop or trio (checked on the source text)."""
    import pathlib
    import re

    import treadle

    root = pathlib.Path(treadle.__file__).parent
    pattern = re.compile(r"^\s*(import|from)\s+(asyncio|trio|uvloop|anyio)\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "backends" not in path.relative_to(root).parts and pattern.search(path.read_text())
    ]
    assert offenders == []


async def test_timer_callback_error_is_logged_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    backend = get_backend()
    fired: list[int] = []

    def callback() -> None:
        fired.append(1)
        if len(fired) == 1:
            raise ValueError("callback bug")

    timer = backend.create_timer(callback)
    try:
        for expected in (1, 2):
            timer.arm_after(0.01)
            with anyio.fail_after(5):
                while len(fired) < expected:
                    await backend.sleep(0.005)
    finally:
        timer.close()
    assert "callback bug" in caplog.text or any(
        record.exc_info and "callback bug" in str(record.exc_info[1]) for record in caplog.records
    )
