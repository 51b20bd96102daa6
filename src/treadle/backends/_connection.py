"""What every backend's connection shares: handler routing, addresses, failure policy.

The I/O itself (asyncio transport calls, trio's reader and writer tasks) stays in each
backend; this base only holds the state and the few methods whose meaning is the same
everywhere, so the two connections cannot drift apart on them.
"""

from __future__ import annotations

import logging
from typing import Any

from ._interface import DEFAULT_HIGH_WATER, ConnectionHandler

__all__ = ["BaseConnection", "logger", "write_limits"]

logger = logging.getLogger("treadle.backends")


def write_limits(high: int | None, low: int | None) -> tuple[int, int]:
    """``set_write_buffer_limits``'s (high, low) water marks as asyncio's transports
    take them: high defaults to 64 KiB (or 4 x low), low to high / 4; high >= low >= 0."""
    if high is None:
        high = DEFAULT_HIGH_WATER if low is None else 4 * low
    if low is None:
        low = high // 4
    if not high >= low >= 0:
        raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
    return high, low


class BaseConnection:
    """State common to :class:`treadle.backends.Connection` implementations.

    ``_started``: the handler has seen ``connection_made`` (and will see
    ``connection_lost``). ``_lost``: the socket is closed and the handler told.
    ``_exc``: the first error, passed to ``connection_lost``.
    """

    __slots__ = (
        "_closing",
        "_exc",
        "_handler",
        "_lost",
        "_peername",
        "_reading",
        "_sockname",
        "_started",
    )

    def __init__(
        self, handler: ConnectionHandler | None, peername: Any = None, sockname: Any = None
    ) -> None:
        # None until a server connection's handler factory has run.
        self._handler: ConnectionHandler = handler  # type: ignore[assignment]
        self._peername = peername
        self._sockname = sockname
        self._started = False
        self._reading = True
        self._closing = False
        self._lost = False
        self._exc: BaseException | None = None

    def abort(self) -> None:
        raise NotImplementedError

    def _fail(self, exc: BaseException) -> None:
        """Abort, reporting ``exc`` to ``connection_lost`` unless an error came first."""
        if self._exc is None:
            self._exc = exc
        self.abort()

    def _tell_lost(self) -> None:
        """``connection_lost(self._exc)``, once and only after ``connection_made``; a
        handler that fails there is logged (the connection is gone anyway)."""
        if self._started:
            self._started = False
            try:
                self._handler.connection_lost(self._exc)
            except Exception:
                logger.exception("connection_lost() of %r failed", self._handler)

    def _handler_failed(self, exc: Exception, callback: str) -> None:
        # Like asyncio's "Fatal error: protocol.data_received() call failed": log, then
        # abort so connection_lost(exc) tells the handler.
        logger.error("%s() of %r failed; aborting the connection", callback, self, exc_info=exc)
        self._fail(exc)

    @property
    def handler(self) -> ConnectionHandler:
        return self._handler

    def set_handler(self, handler: ConnectionHandler) -> None:
        self._handler = handler

    def is_closing(self) -> bool:
        return self._closing

    def is_reading(self) -> bool:
        return self._reading and not self._closing

    @property
    def peername(self) -> Any:
        return self._peername

    @property
    def sockname(self) -> Any:
        return self._sockname

    def __repr__(self) -> str:
        state = "lost" if self._lost else "closing" if self._closing else "open"
        return f"<{type(self).__name__} {state} peer={self._peername!r}>"
