"""backend.spawn when jobs follow one another (trio reuses finished tasks for them).

Whatever a backend does to start jobs cheaply, each one behaves like a task of its own:
fresh contextvars copied from the spawner, its own cancellation, errors logged alone.
"""

from __future__ import annotations

import contextvars
import logging

import anyio
import pytest

from treadle.backends import TaskHandle, get_backend

_var: contextvars.ContextVar[str] = contextvars.ContextVar("_var", default="unset")


async def _run_in_turn(count: int, make_job: object) -> list[TaskHandle]:
    """Spawn ``count`` jobs one after another, each after the previous one finished."""
    backend = get_backend()
    handles = []
    with anyio.fail_after(10):
        for index in range(count):
            handle = backend.spawn(make_job(index))  # type: ignore[operator]
            handles.append(handle)
            await handle.wait()
    return handles


async def test_each_job_sees_the_spawners_context_not_the_previous_jobs() -> None:
    seen: list[tuple[int, str]] = []

    def make_job(index: int) -> object:
        async def job() -> None:
            seen.append((index, _var.get()))
            _var.set(f"set by job {index}")
            await get_backend().sleep(0)

        return job

    token = _var.set("spawner")
    try:
        await _run_in_turn(5, make_job)
    finally:
        _var.reset(token)
    assert seen == [(index, "spawner") for index in range(5)]
    assert _var.get() == "unset"


async def test_a_cancelled_job_does_not_cancel_the_next_ones() -> None:
    backend = get_backend()
    results: list[str] = []
    started = backend.create_event()

    async def forever() -> None:
        started.set()
        try:
            await backend.sleep(3600)
        finally:
            results.append("cancelled job cleaned up")

    async def quick(index: int) -> None:
        await backend.sleep(0)
        await backend.sleep(0)
        results.append(f"job {index} done")

    with anyio.fail_after(10):
        handle = backend.spawn(forever)
        await started.wait()
        handle.cancel()
        await handle.wait()
        handle.cancel()  # after the end: nothing happens
        for index in range(3):
            following = backend.spawn(quick, index)
            await following.wait()
            following.cancel()  # a finished job's handle never reaches a later job
    assert results == ["cancelled job cleaned up", "job 0 done", "job 1 done", "job 2 done"]


async def test_a_job_that_swallows_its_cancellation_does_not_poison_the_next() -> None:
    backend = get_backend()
    results: list[str] = []
    started = backend.create_event()

    async def stubborn() -> None:
        started.set()
        try:
            await backend.sleep(3600)
        except BaseException:  # swallowing it is what the test is about
            results.append("swallowed")

    async def after() -> None:
        await backend.sleep(0)
        results.append("next job ran to its end")

    with anyio.fail_after(10):
        handle = backend.spawn(stubborn)
        await started.wait()
        handle.cancel()
        await handle.wait()
        await backend.spawn(after).wait()
    assert results == ["swallowed", "next job ran to its end"]


async def test_jobs_cancelled_before_they_start_and_failing_jobs_stay_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = get_backend()
    results: list[str] = []

    async def never(index: int) -> None:
        await backend.sleep(0)
        results.append(f"never {index}")

    async def fails() -> None:
        await backend.sleep(0)
        raise ValueError("boom")

    async def fine(index: int) -> None:
        await backend.sleep(0)
        results.append(f"fine {index}")

    with caplog.at_level(logging.ERROR, logger="treadle.backends"), anyio.fail_after(10):
        for index in range(3):
            cancelled = backend.spawn(never, index)
            cancelled.cancel()
            failing = backend.spawn(fails, name="failing job")
            ok = backend.spawn(fine, index)
            for handle in (cancelled, failing, ok):
                await handle.wait()
                assert handle.done()
    assert results == ["fine 0", "fine 1", "fine 2"]
    assert [record.getMessage() for record in caplog.records].count(
        "background task 'failing job' failed"
    ) == 3


async def test_many_jobs_at_once_all_finish() -> None:
    backend = get_backend()
    done: list[int] = []

    async def job(index: int) -> None:
        await backend.sleep(0)
        done.append(index)

    with anyio.fail_after(10):
        for _ in range(3):  # beyond the idle pool, then from it
            handles = [backend.spawn(job, index) for index in range(150)]
            for handle in handles:
                await handle.wait()
    assert sorted(done) == sorted(list(range(150)) * 3)
