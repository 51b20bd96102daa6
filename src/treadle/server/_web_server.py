"""``Server``: the connection-handler factory a listener serves, and its shutdown.

``Server(handler)`` is aiohttp's low-level server: ``handler(request)`` returns a
response. Calling the server with no arguments makes the ``RequestHandler`` of a new
connection, so it is exactly the ``HandlerFactory`` that ``backend.serve_tcp`` takes.
It knows its live connections, which is what graceful shutdown needs:
``pre_shutdown()`` ends keep-alive, ``shutdown(timeout)`` lets in-flight requests
finish, cancels what is left at the deadline and closes everything.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from ..backends import Connection, get_backend
from ..protocol import Limits
from ._accesslog import AbstractAccessLogger, AccessLogger, access_logger
from ._handler import RequestHandler, server_logger

__all__ = ["Server"]

#: How long cancelled handlers get to unwind at the end of ``shutdown``.
CANCEL_GRACE = 1.0


def _default_request_factory(message: Any, payload: Any, conn: Any, writer: Any, task: Any) -> Any:
    from ._request import BaseRequest

    return BaseRequest(message, payload, conn, writer, task)


class Server:
    """aiohttp's ``web.Server``: serve ``handler`` on every connection it is given.

    Limits and timeouts (defaults as aiohttp where it has them): ``keepalive_timeout``
    75 s idle between requests; ``header_read_timeout`` 15 s to receive a whole
    request head (from the connection's start or the head's first byte -- slowloris
    protection aiohttp lacks; nginx's equivalent defaults to 60 s, Apache's
    mod_reqtimeout to 20-40 s); ``max_line_size``/``max_field_size`` 8190 bytes,
    ``max_headers`` 128, ``max_pipelined_requests`` 64; ``read_bufsize`` is the
    request-body buffer past which reading pauses. Handler errors are logged on
    ``logger`` (``treadle.server``); ``debug=True`` also puts the traceback in the 500
    page (development only). ``lingering_time`` (10 s) bounds how long the rest of an
    unread request body is drained after an early answer. ``auto_decompress`` decodes request
    bodies sent with a ``Content-Encoding`` (gzip, deflate, br, zstd when installed).
    """

    def __init__(
        self,
        handler: Callable[[Any], Awaitable[Any]],
        *,
        request_factory: Callable[..., Any] | None = None,
        handler_cancellation: bool = False,
        loop: Any = None,
        access_log_class: type[AbstractAccessLogger] = AccessLogger,
        access_log: logging.Logger | None = access_logger,
        access_log_format: str = AccessLogger.LOG_FORMAT,
        keepalive_timeout: float = 75.0,
        header_read_timeout: float = 15.0,
        tcp_keepalive: bool = True,
        lingering_time: float = 10.0,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        max_head_size: int = 65536,
        max_pipelined_requests: int = 64,
        read_bufsize: int = 2**16,
        auto_decompress: bool = True,
        engine: str | None = None,
        debug: bool = False,
        logger: logging.Logger | None = None,
    ) -> None:
        del loop  # aiohttp compatibility: the loop is found at the point of use
        self.request_handler = handler
        self.request_factory = request_factory or _default_request_factory
        self._request_factory = self.request_factory
        self.handler_cancellation = handler_cancellation
        self.keepalive_timeout = keepalive_timeout
        self.header_read_timeout = header_read_timeout
        self.tcp_keepalive = tcp_keepalive
        self.lingering_time = lingering_time
        self.read_bufsize = read_bufsize
        self.auto_decompress = auto_decompress
        self.engine = engine
        self.logger = logger if logger is not None else server_logger
        self.debug = debug
        self.limits = Limits(
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
            max_head_size=max(max_head_size, max_line_size + max_field_size),
            max_pipelined_requests=max_pipelined_requests,
        )
        self._access_log: AbstractAccessLogger | None = (
            None if access_log is None else access_log_class(access_log, access_log_format)
        )
        self._connections: set[RequestHandler] = set()
        self.requests_count = 0
        self._shutting_down = False

    def __call__(self) -> RequestHandler:
        """A ``RequestHandler`` for one new connection (the ``HandlerFactory`` protocol)."""
        return RequestHandler(self)

    @property
    def connections(self) -> list[RequestHandler]:
        """The open connections' handlers."""
        return list(self._connections)

    @staticmethod
    def _from_http_exception(exc: Any) -> Any:
        from ._response import response_from_http_exception

        return response_from_http_exception(exc)

    @staticmethod
    def _set_keepalive(conn: Connection) -> None:
        sock = conn.socket
        if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        with suppress(OSError, AttributeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)  # type: ignore[attr-defined]

    def pre_shutdown(self) -> None:
        """Stop keep-alive: idle connections close now, busy ones after their response."""
        self._shutting_down = True
        for handler in list(self._connections):
            handler._close_idle()

    async def shutdown(self, timeout: float | None = None) -> None:
        """Let in-flight requests finish for up to ``timeout`` seconds, then cancel them.

        Requests already received on a connection (pipelined) are answered too; when the
        deadline passes, every handler still running is cancelled (given
        ``CANCEL_GRACE`` seconds to unwind) and every connection is closed.
        """
        backend = get_backend()
        self.pre_shutdown()
        with suppress(TimeoutError), backend.fail_after(timeout):
            for handler in list(self._connections):
                await handler._wait_idle()
        busy = [handler for handler in self._connections if handler._current is not None]
        for handler in busy:
            handler._cancel()
        with suppress(TimeoutError), backend.fail_after(CANCEL_GRACE):
            for handler in busy:
                await handler._wait_idle()
        for handler in list(self._connections):
            handler._close()
            conn = handler.connection
            if conn is not None and handler._current is not None:
                conn.abort()  # a handler that would not stop: drop its connection
        self._connections.clear()
