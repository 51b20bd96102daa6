"""``backend.create_event()``: set/is_set/wait on every backend (asyncio's is a lean
future-based event, made per wait on hot paths)."""

from __future__ import annotations

import anyio

from treadle.backends import get_backend


async def test_set_wakes_every_waiter_and_later_waits_return_at_once() -> None:
    event = get_backend().create_event()
    woken: list[int] = []

    async def waiter(n: int) -> None:
        await event.wait()
        woken.append(n)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for n in range(3):
                tg.start_soon(waiter, n)
            await anyio.sleep(0.01)
            assert not event.is_set() and woken == []
            event.set()
            event.set()  # idempotent
        assert sorted(woken) == [0, 1, 2] and event.is_set()
        await event.wait()  # already set: no waiting


async def test_a_cancelled_wait_leaves_the_event_usable() -> None:
    event = get_backend().create_event()
    for _ in range(50):  # many waits cancelled before any set()
        with anyio.move_on_after(0.001):
            await event.wait()
    waiters = getattr(event, "_waiters", None)
    assert waiters is None or len(waiters) <= 17  # asyncio: cancelled waiters are dropped
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(event.wait)
            await anyio.sleep(0.01)
            event.set()
    assert event.is_set()
