"""backend.spawn: background tasks started from synchronous code, on every backend."""

from __future__ import annotations

import logging

import anyio
import pytest

from treadle.backends import TaskHandle, get_backend


async def test_spawned_task_runs_and_outlives_the_caller() -> None:
    backend = get_backend()
    seen: list[int] = []
    event = backend.create_event()

    async def work(value: int) -> None:
        await backend.sleep(0)
        seen.append(value)
        event.set()

    def from_a_callback() -> TaskHandle:  # synchronous, like data_received
        return backend.spawn(work, 7, name="work")

    handle = from_a_callback()
    with anyio.fail_after(5):
        await event.wait()
        await handle.wait()
    assert seen == [7]
    assert handle.done()


async def test_cancel_ends_the_task_and_wait_returns() -> None:
    backend = get_backend()
    started = backend.create_event()
    finished: list[str] = []

    async def forever() -> None:
        started.set()
        try:
            await backend.sleep(3600)
        finally:
            finished.append("cleanup")

    handle = backend.spawn(forever)
    with anyio.fail_after(5):
        await started.wait()
        assert not handle.done()
        handle.cancel()
        await handle.wait()
    assert handle.done()
    assert finished == ["cleanup"]


async def test_cancel_before_start() -> None:
    """The function still starts and is cancelled at its first await, so its clean-up
    (``finally``) runs on every backend: a server relies on it to finish a request."""
    backend = get_backend()
    ran: list[str] = []

    async def body() -> None:
        ran.append("started")
        try:
            await backend.sleep(0)
            ran.append("past the await")
        finally:
            ran.append("finally")

    handle = backend.spawn(body)
    handle.cancel()
    with anyio.fail_after(5):
        await handle.wait()
    assert handle.done()
    assert ran == ["started", "finally"]


async def test_errors_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    backend = get_backend()

    async def boom() -> None:
        await backend.sleep(0)
        raise ValueError("spawned failure")

    with caplog.at_level(logging.ERROR, logger="treadle.backends"):
        handle = backend.spawn(boom, name="boom")
        with anyio.fail_after(5):
            await handle.wait()
        # asyncio logs from the task's done callback, one loop turn later.
        for _ in range(10):
            if any("spawned failure" in str(r.exc_info) for r in caplog.records):
                break
            await backend.sleep(0.001)
    assert handle.done()
    records = [r for r in caplog.records if r.exc_info and "spawned failure" in str(r.exc_info[1])]
    assert len(records) == 1
    assert "boom" in records[0].getMessage()


async def test_waiter_cancellation_leaves_the_task_running() -> None:
    backend = get_backend()
    release = backend.create_event()
    done: list[bool] = []

    async def body() -> None:
        await release.wait()
        done.append(True)

    handle = backend.spawn(body)
    with anyio.move_on_after(0.05):
        await handle.wait()
    assert not handle.done()
    release.set()
    with anyio.fail_after(5):
        await handle.wait()
    assert done == [True]


async def test_asyncio_forgets_tasks_cancelled_before_they_start(anyio_backend: object) -> None:
    if get_backend().name != "asyncio":
        pytest.skip("asyncio's strong references only")
    from treadle.backends._asyncio import _spawn

    async def body() -> None:
        await get_backend().sleep(0)

    before = len(_spawn._running)
    handles = [get_backend().spawn(body) for _ in range(5)]
    for handle in handles:
        handle.cancel()
    with anyio.fail_after(5):
        for handle in handles:
            await handle.wait()
        await get_backend().sleep(0)
    assert len(_spawn._running) == before
