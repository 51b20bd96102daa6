"""Start an event loop: the one place in treadle that does.

``run_app``, the CLI and the gunicorn workers all end up here, so choosing a backend is a
string (``"asyncio"``, ``"uvloop"`` or ``"trio"``) everywhere above this layer.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal, Protocol, TypeVar

import sniffio

__all__ = [
    "BACKEND_NAMES",
    "BackendName",
    "LoopRunner",
    "loop_runner",
    "run",
    "running_asyncio_loop",
]

T = TypeVar("T")

BackendName = Literal["asyncio", "uvloop", "trio"]
#: The names :func:`run` accepts, in the order a CLI lists them.
BACKEND_NAMES: tuple[BackendName, ...] = ("asyncio", "uvloop", "trio")


def _running_library() -> str | None:
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        pass
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None and asyncio._get_running_loop() is not None:
        return "asyncio"
    return None


def run(main: Callable[[], Awaitable[T]], *, backend: str = "asyncio") -> T:
    """Run ``main()`` in a new event loop of ``backend`` and return its result.

    ``"asyncio"`` is ``asyncio.run``; ``"uvloop"`` is asyncio on uvloop's loop (same
    backend code, faster loop); ``"trio"`` is ``trio.run``. Raises ``ValueError`` for
    another name and ``RuntimeError`` when called from inside a running loop.
    """
    if backend not in BACKEND_NAMES:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKEND_NAMES)}")
    running = _running_library()
    if running is not None:
        raise RuntimeError(
            f"treadle.backends.run() starts an event loop and cannot run inside one "
            f"({running} is running here); await the coroutine instead"
        )
    if backend == "trio":
        import trio

        return trio.run(main)
    import asyncio

    loop_factory = None
    if backend == "uvloop":
        try:
            import uvloop
        except ImportError as exc:  # pragma: no cover - uvloop is a dependency on POSIX
            raise RuntimeError("backend='uvloop' needs the uvloop package installed") from exc
        loop_factory = uvloop.new_event_loop

    async def _main() -> T:
        return await main()

    # asyncio.Runner (3.11+) takes a loop factory; asyncio.run only from 3.12 on.
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(_main())


class LoopRunner(Protocol):
    """One event loop kept open across several ``run()`` calls (``asyncio.Runner``)."""

    def run(self, coro: Coroutine[Any, Any, T]) -> T: ...

    def close(self) -> None: ...


def loop_runner(backend: str = "asyncio") -> LoopRunner:
    """A loop that synchronous code can enter several times, then ``close()``.

    A test runner needs this: async fixtures set up, the test and the teardown run as
    separate calls on the same loop. asyncio and uvloop only: trio has no re-entrant run.
    """
    if backend not in ("asyncio", "uvloop"):
        raise ValueError(f"loop_runner() supports 'asyncio' and 'uvloop', not {backend!r}")
    import asyncio

    loop_factory = None
    if backend == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    return asyncio.Runner(loop_factory=loop_factory)


def running_asyncio_loop() -> Any:
    """The running asyncio event loop, for APIs that expose it (aiohttp's ``self.loop``).

    Raises ``RuntimeError`` outside asyncio, like ``asyncio.get_running_loop()``.
    """
    import asyncio

    return asyncio.get_running_loop()
