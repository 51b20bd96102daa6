"""Signal delivery on trio: ``trio.open_signal_receiver`` behind an async context manager."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

__all__ = ["open_signal_receiver"]


@asynccontextmanager
async def open_signal_receiver(*signals: int) -> AsyncIterator[AsyncIterator[int]]:
    """Catch ``signals`` while inside; trio restores the previous handlers on exit.

    A signal that arrives several times before it is read is delivered once (trio's rule).
    """
    if not signals:
        raise TypeError("open_signal_receiver needs at least one signal")
    with trio.open_signal_receiver(*signals) as receiver:
        await trio.lowlevel.checkpoint()
        yield receiver
