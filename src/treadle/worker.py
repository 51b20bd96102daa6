"""gunicorn workers: ``gunicorn module:app -k treadle.worker.GunicornWebWorker``.

Each worker serves the application on the listening sockets gunicorn inherited to it
(one :class:`~treadle.web.SockSite` per socket), tells the master it is alive once a
second, and stops the way gunicorn expects:

- SIGTERM: graceful shutdown (listeners closed, in-flight requests get up to 95% of
  ``--graceful-timeout``), exit 0;
- SIGQUIT, SIGINT: the same, after gunicorn's ``worker_int`` hook;
- SIGABRT (the master's timeout): ``worker_abort`` hook, in-flight requests cancelled,
  exit 1;
- SIGUSR1: reopen the log files; ``--max-requests``: restart after that many requests;
- the master died (the parent pid changed): shut down.

The three classes differ only by the event loop: asyncio, uvloop or trio. This is the
only module that imports gunicorn.
"""

from __future__ import annotations

import inspect
import os
import re
import signal
import ssl
import sys
from collections.abc import AsyncIterator
from typing import Any

from gunicorn.config import AccessLogFormat as GunicornAccessLogFormat  # type: ignore[import-untyped]
from gunicorn.sock import ssl_context as gunicorn_ssl_context  # type: ignore[import-untyped]
from gunicorn.workers import base  # type: ignore[import-untyped]

from .backends import Event, get_backend
from .backends import run as run_loop
from .server._accesslog import AccessLogger
from .server._app import Application
from .server._runner import AppRunner
from .server._sites import SockSite

__all__ = ["GunicornTrioWebWorker", "GunicornUVLoopWebWorker", "GunicornWebWorker"]

#: The signals a gunicorn worker answers (see ``gunicorn.workers.base.Worker``).
WORKER_SIGNALS = (
    signal.SIGQUIT,
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGWINCH,
    signal.SIGUSR1,
    signal.SIGABRT,
)

#: How often the worker tells the master it is alive (gunicorn's ``--timeout`` is larger).
HEARTBEAT = 1.0


class GunicornWebWorker(base.Worker):  # type: ignore[misc]
    """Serve a treadle application in a gunicorn worker process on asyncio."""

    #: The event loop this worker runs (a :func:`treadle.backends.run` backend name).
    backend = "asyncio"

    DEFAULT_AIOHTTP_LOG_FORMAT = AccessLogger.LOG_FORMAT
    DEFAULT_GUNICORN_LOG_FORMAT = GunicornAccessLogFormat.default

    alive: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exit_code = 0
        self._aborted = False
        self._wakeup: Event | None = None

    # -- gunicorn hooks ------------------------------------------------------------------

    def init_signals(self) -> None:
        """gunicorn's plain handlers until the loop starts; the loop's receiver after."""
        super().init_signals()
        # The event loop installs its own wakeup fd; gunicorn's would collide with it.
        signal.set_wakeup_fd(-1)
        # Let subprocesses of the application report their exit status.
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)

    def run(self) -> None:
        try:
            run_loop(self._run, backend=self.backend)
        except Exception:
            self.log.exception("Exception in gunicorn worker")
            self.exit_code = self.exit_code or 1
        sys.exit(self.exit_code)

    # -- serving ---------------------------------------------------------------------------

    async def _run(self) -> None:
        backend = get_backend()
        async with backend.open_signal_receiver(*WORKER_SIGNALS) as signals:
            runner = await self._make_runner()
            await runner.setup()
            try:
                ctx = self._create_ssl_context(self.cfg) if self.cfg.is_ssl else None
                for sock in self.sockets:
                    await SockSite(runner, getattr(sock, "sock", sock), ssl_context=ctx).start()
                async with backend.task_group() as group:
                    group.start_soon(self._handle_signals, signals)
                    try:
                        await self._heartbeat(runner)
                    finally:
                        group.cancel()
            finally:
                if self._aborted:
                    runner._shutdown_timeout = 0.0
                await runner.cleanup()

    async def _make_runner(self) -> AppRunner:
        """The runner for ``self.wsgi``: an app, or an async factory of an app or runner."""
        app: Any = self.wsgi
        if inspect.iscoroutinefunction(app):
            app = await app()
            if isinstance(app, AppRunner):
                return app
        if not isinstance(app, Application):
            raise RuntimeError(
                "wsgi app should be either Application or async function returning "
                f"Application, got {self.wsgi!r}"
            )
        return AppRunner(
            app,
            keepalive_timeout=self.cfg.keepalive,
            access_log=self.log.access_log if self.cfg.accesslog else None,
            access_log_format=self._get_valid_log_format(self.cfg.access_log_format),
            shutdown_timeout=self.cfg.graceful_timeout / 100 * 95,
        )

    async def _heartbeat(self, runner: AppRunner) -> None:
        backend = get_backend()
        pid = os.getpid()
        while self.alive:
            self.notify()
            count = getattr(runner.server, "requests_count", 0)
            if self.max_requests and count > self.max_requests:
                self.alive = False
                self.log.info("Max requests, shutting down: %s", self)
            elif pid == os.getpid() and self.ppid != os.getppid():
                self.alive = False
                self.log.info("Parent changed, shutting down: %s", self)
            else:
                self._wakeup = backend.create_event()
                try:
                    with backend.fail_after(HEARTBEAT):
                        await self._wakeup.wait()
                except TimeoutError:
                    pass

    async def _handle_signals(self, signals: AsyncIterator[int]) -> None:
        async for signum in signals:
            if signum in (signal.SIGQUIT, signal.SIGINT):
                self.alive = False
                self.cfg.worker_int(self)
            elif signum == signal.SIGTERM:
                self.alive = False
            elif signum == signal.SIGABRT:
                self.alive = False
                self._aborted = True
                self.exit_code = 1
                self.cfg.worker_abort(self)
            elif signum == signal.SIGUSR1:
                self.log.reopen_files()
            if not self.alive and self._wakeup is not None:
                self._wakeup.set()

    @staticmethod
    def _create_ssl_context(cfg: Any) -> ssl.SSLContext:
        """gunicorn's own TLS settings (``--certfile``, ``--keyfile``, ``ssl_context`` hook)."""
        ctx: ssl.SSLContext = gunicorn_ssl_context(cfg)
        return ctx

    def _get_valid_log_format(self, source_format: str) -> str:
        """gunicorn's ``%(h)s``-style access log formats are not aiohttp's ``%a`` tokens."""
        if source_format == self.DEFAULT_GUNICORN_LOG_FORMAT:
            return self.DEFAULT_AIOHTTP_LOG_FORMAT
        if re.search(r"%\([^\)]+\)", source_format):
            raise ValueError(
                "Gunicorn's style options in form of `%(name)s` are not supported for "
                "the log formatting. Please use aiohttp's format specification to "
                "configure access log formatting (see docs/running.md)"
            )
        return source_format


class GunicornUVLoopWebWorker(GunicornWebWorker):
    """The same worker on uvloop's event loop."""

    backend = "uvloop"


class GunicornTrioWebWorker(GunicornWebWorker):
    """The same worker on trio."""

    backend = "trio"
