"""``backends.run`` starts each library's loop; ``open_signal_receiver`` catches signals."""

from __future__ import annotations

import os
import signal
from types import FrameType

import anyio
import pytest
import sniffio

from treadle.backends import BACKEND_NAMES, get_backend, loop_runner, run, running_asyncio_loop


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_run_returns_the_result_on_the_named_library(name: str) -> None:
    async def main() -> tuple[str, str, str]:
        loop_type = ""
        if name != "trio":
            import asyncio

            loop_type = type(asyncio.get_running_loop()).__module__
        return sniffio.current_async_library(), get_backend().name, loop_type

    library, backend_name, loop_module = run(main, backend=name)
    assert library == ("trio" if name == "trio" else "asyncio")
    assert backend_name == library
    if name == "uvloop":
        assert loop_module.startswith("uvloop")
    elif name == "asyncio":
        assert loop_module.startswith("asyncio")


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_run_propagates_the_exception(name: str) -> None:
    async def main() -> None:
        await get_backend().checkpoint()
        raise LookupError("from main")

    with pytest.raises(LookupError, match="from main"):
        run(main, backend=name)


def test_run_rejects_an_unknown_backend() -> None:
    async def main() -> None:
        raise AssertionError("must not run")

    with pytest.raises(ValueError, match="unknown backend 'curio'"):
        run(main, backend="curio")


@pytest.mark.parametrize("name", ["asyncio", "uvloop"])
def test_loop_runner_keeps_one_loop_across_runs(name: str) -> None:
    """A test runner sets fixtures up, runs the test and tears down on the same loop."""

    async def which_loop() -> tuple[object, str]:
        return running_asyncio_loop(), type(running_asyncio_loop()).__module__

    runner = loop_runner(name)
    try:
        first, module = runner.run(which_loop())
        second, _ = runner.run(which_loop())
    finally:
        runner.close()
    assert first is second
    assert module.startswith("uvloop" if name == "uvloop" else "asyncio")


def test_loop_runner_refuses_trio() -> None:
    with pytest.raises(ValueError, match="trio"):
        loop_runner("trio")


async def test_run_refuses_to_nest() -> None:
    async def main() -> None:
        raise AssertionError("must not run")

    with pytest.raises(RuntimeError):
        run(main, backend="trio" if sniffio.current_async_library() == "trio" else "asyncio")


async def test_signal_receiver_yields_the_signals_sent() -> None:
    backend = get_backend()
    async with backend.open_signal_receiver(signal.SIGUSR1, signal.SIGUSR2) as signals:
        received = []
        with anyio.fail_after(10):
            os.kill(os.getpid(), signal.SIGUSR1)
            received.append(await signals.__anext__())
            signal.raise_signal(signal.SIGUSR2)
            received.append(await signals.__anext__())
    assert received == [signal.SIGUSR1, signal.SIGUSR2]


async def test_sigint_inside_the_receiver_is_not_keyboard_interrupt() -> None:
    async with get_backend().open_signal_receiver(signal.SIGINT) as signals:
        signal.raise_signal(signal.SIGINT)
        with anyio.fail_after(10):
            async for signum in signals:
                assert signum == signal.SIGINT
                break
        # One more turn of the loop: nothing else was delivered as an exception.
        await anyio.sleep(0.01)


async def test_previous_handler_comes_back_on_exit() -> None:
    seen: list[int] = []

    def custom(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)

    old = signal.signal(signal.SIGUSR1, custom)
    try:
        async with get_backend().open_signal_receiver(signal.SIGUSR1) as signals:
            assert signal.getsignal(signal.SIGUSR1) is not custom
            signal.raise_signal(signal.SIGUSR1)
            with anyio.fail_after(10):
                assert await signals.__anext__() == signal.SIGUSR1
        assert seen == []
        assert signal.getsignal(signal.SIGUSR1) is custom
        signal.raise_signal(signal.SIGUSR1)
        assert seen == [signal.SIGUSR1]
    finally:
        signal.signal(signal.SIGUSR1, old)


async def test_previous_handler_comes_back_after_an_error() -> None:
    before = signal.getsignal(signal.SIGUSR2)
    with pytest.raises(LookupError):
        async with get_backend().open_signal_receiver(signal.SIGUSR2):
            raise LookupError
    assert signal.getsignal(signal.SIGUSR2) is before


async def test_signal_receiver_needs_a_signal() -> None:
    with pytest.raises(TypeError):
        async with get_backend().open_signal_receiver():
            pass
