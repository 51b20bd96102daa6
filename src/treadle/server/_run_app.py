"""``web.run_app``: serve an application until SIGINT/SIGTERM, then shut down gracefully.

``_run_app`` is the async part and runs inside any asyncio, uvloop or trio program;
``run_app`` starts the loop of the chosen backend around it. While serving, SIGINT and
SIGTERM are caught by the backend's signal receiver (no ``KeyboardInterrupt`` can land in
the middle of a handler): the first one starts the graceful shutdown of
:meth:`BaseRunner.cleanup`, a second one during that shutdown cancels what is left of
it.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import signal
import socket
import ssl as _ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from ..backends import TaskGroup, get_backend
from ..backends import run as run_loop
from ._accesslog import AbstractAccessLogger, AccessLogger, access_logger
from ._app import Application
from ._runner import AppRunner, GracefulExit
from ._sites import BaseSite, SockSite, TCPSite, UnixSite

__all__ = ["run_app"]

logger = logging.getLogger("treadle.server")

#: Signals that start a graceful shutdown.
SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _sites(
    runner: AppRunner,
    *,
    host: str | Iterable[str] | None,
    port: int | None,
    path: Any,
    sock: socket.socket | Iterable[socket.socket] | None,
    ssl_context: _ssl.SSLContext | None,
    backlog: int,
    reuse_address: bool | None,
    reuse_port: bool | None,
) -> list[BaseSite]:
    """The sites aiohttp's ``run_app`` makes for the same arguments."""
    sites: list[BaseSite] = []
    tcp: dict[str, Any] = {
        "ssl_context": ssl_context,
        "backlog": backlog,
        "reuse_address": reuse_address,
        "reuse_port": reuse_port,
    }
    if host is not None:
        hosts = [host] if isinstance(host, str) else list(host)
        sites.extend(TCPSite(runner, h, port, **tcp) for h in hosts)
    elif (path is None and sock is None) or port is not None:
        sites.append(TCPSite(runner, port=port, **tcp))
    if path is not None:
        paths = [path] if isinstance(path, str | bytes) or hasattr(path, "__fspath__") else path
        sites.extend(UnixSite(runner, p, ssl_context=ssl_context, backlog=backlog) for p in paths)
    if sock is not None:
        socks = [sock] if isinstance(sock, socket.socket) else list(sock)
        sites.extend(SockSite(runner, s, ssl_context=ssl_context, backlog=backlog) for s in socks)
    return sites


async def _cleanup(runner: AppRunner, signals: AsyncIterator[int] | None) -> None:
    """Graceful cleanup; with signals caught, a second signal cuts it short."""
    if signals is None:
        await runner.cleanup()
        return

    async def clean(group: TaskGroup) -> None:
        await runner.cleanup()
        group.cancel()

    async def force(group: TaskGroup) -> None:
        async for signum in signals:
            logger.warning(
                "%s again: cancelling the graceful shutdown", signal.Signals(signum).name
            )
            group.cancel()
            return

    try:
        async with get_backend().task_group() as group:
            group.start_soon(clean, group)
            group.start_soon(force, group)
    except BaseExceptionGroup as group_error:
        # Only clean() can fail: give its error back as the caller would have seen it.
        if len(group_error.exceptions) == 1:
            raise group_error.exceptions[0] from None
        raise


async def _serve(
    runner: AppRunner,
    sites: list[BaseSite],
    print: Callable[..., None] | None,
    signals: AsyncIterator[int] | None,
) -> None:
    try:
        for site in sites:
            await site.start()
        if print is not None:
            names = sorted(str(site.name) for site in runner.sites)
            print(f"======== Running on {', '.join(names)} ========\n(Press CTRL+C to quit)")
        if signals is None:
            await get_backend().create_event().wait()  # until cancelled
        else:
            async for signum in signals:
                logger.info("%s received: shutting down", signal.Signals(signum).name)
                break
    finally:
        await _cleanup(runner, signals)


async def _run_app(
    app: Application | Awaitable[Application],
    *,
    host: str | Iterable[str] | None = None,
    port: int | None = None,
    path: Any = None,
    sock: socket.socket | Iterable[socket.socket] | None = None,
    shutdown_timeout: float = 60.0,
    keepalive_timeout: float = 75.0,
    ssl_context: _ssl.SSLContext | None = None,
    print: Callable[..., None] | None = print,
    backlog: int = 128,
    access_log_class: type[AbstractAccessLogger] = AccessLogger,
    access_log_format: str = AccessLogger.LOG_FORMAT,
    access_log: logging.Logger | None = access_logger,
    handle_signals: bool = True,
    reuse_address: bool | None = None,
    reuse_port: bool | None = None,
    handler_cancellation: bool = False,
) -> None:
    """Serve ``app`` in the running loop until a shutdown signal (or cancellation)."""
    if inspect.isawaitable(app):
        app = await app
    runner = AppRunner(
        app,
        handle_signals=handle_signals,
        access_log_class=access_log_class,
        access_log_format=access_log_format,
        access_log=access_log,
        keepalive_timeout=keepalive_timeout,
        shutdown_timeout=shutdown_timeout,
        handler_cancellation=handler_cancellation,
    )
    async with contextlib.AsyncExitStack() as stack:
        signals = None
        if handle_signals:
            # Caught from before startup on: a CTRL+C during on_startup waits for the
            # startup to end and then shuts down cleanly instead of interrupting it.
            signals = await stack.enter_async_context(
                get_backend().open_signal_receiver(*SHUTDOWN_SIGNALS)
            )
        await runner.setup()
        sites = _sites(
            runner, host=host, port=port, path=path, sock=sock, ssl_context=ssl_context,
            backlog=backlog, reuse_address=reuse_address, reuse_port=reuse_port,
        )  # fmt: skip
        await _serve(runner, sites, print, signals)


def run_app(
    app: Application | Awaitable[Application],
    *,
    host: str | Iterable[str] | None = None,
    port: int | None = None,
    path: Any = None,
    sock: socket.socket | Iterable[socket.socket] | None = None,
    shutdown_timeout: float = 60.0,
    keepalive_timeout: float = 75.0,
    ssl_context: _ssl.SSLContext | None = None,
    print: Callable[..., None] | None = print,
    backlog: int = 128,
    access_log_class: type[AbstractAccessLogger] = AccessLogger,
    access_log_format: str = AccessLogger.LOG_FORMAT,
    access_log: logging.Logger | None = access_logger,
    handle_signals: bool = True,
    reuse_address: bool | None = None,
    reuse_port: bool | None = None,
    handler_cancellation: bool = False,
    backend: str = "asyncio",
) -> None:
    """Run ``app`` (or the awaitable making it) in a new loop of ``backend`` until stopped.

    Blocks until SIGINT/SIGTERM (or CTRL+C) ends the graceful shutdown; returns normally
    then, so the process exits 0. ``backend`` is ``"asyncio"``, ``"uvloop"`` or ``"trio"``.
    """

    async def main() -> None:
        await _run_app(
            app, host=host, port=port, path=path, sock=sock, shutdown_timeout=shutdown_timeout,
            keepalive_timeout=keepalive_timeout, ssl_context=ssl_context, print=print,
            backlog=backlog, access_log_class=access_log_class,
            access_log_format=access_log_format, access_log=access_log,
            handle_signals=handle_signals, reuse_address=reuse_address, reuse_port=reuse_port,
            handler_cancellation=handler_cancellation,
        )  # fmt: skip

    with contextlib.suppress(GracefulExit, KeyboardInterrupt):
        run_loop(main, backend=backend)
