"""Signal delivery on asyncio: ``loop.add_signal_handler`` feeding a queue.

The loop's wakeup fd makes a signal wake the loop at once, and the handler runs as a loop
callback, never inside arbitrary code (unlike Python's default ``KeyboardInterrupt``).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

__all__ = ["open_signal_receiver"]


class _SignalReceiver:
    """Async iterator of the signal numbers received, in arrival order."""

    __slots__ = ("_queue",)

    def __init__(self) -> None:
        self._queue: asyncio.Queue[int] = asyncio.Queue()

    def _deliver(self, signum: int) -> None:
        self._queue.put_nowait(signum)

    def __aiter__(self) -> _SignalReceiver:
        return self

    async def __anext__(self) -> int:
        return await self._queue.get()


@asynccontextmanager
async def open_signal_receiver(*signals: int) -> AsyncIterator[AsyncIterator[int]]:
    """Catch ``signals`` while inside; the previous handlers come back on exit.

    Must run in the main thread (a rule of Python's ``signal`` module).
    """
    if not signals:
        raise TypeError("open_signal_receiver needs at least one signal")
    loop = asyncio.get_running_loop()
    receiver = _SignalReceiver()
    previous: dict[int, Any] = {}
    try:
        for sig in signals:
            if sig in previous:
                continue
            previous[sig] = signal.getsignal(sig)
            loop.add_signal_handler(sig, receiver._deliver, int(sig))
        yield receiver
    finally:
        for sig, handler in previous.items():
            loop.remove_signal_handler(sig)
            # remove_signal_handler installs SIG_DFL (default_int_handler for SIGINT), not
            # what was there before, e.g. asyncio.Runner's own SIGINT handler.
            if handler is not None:
                signal.signal(sig, handler)
