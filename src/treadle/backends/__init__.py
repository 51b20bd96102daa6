"""treadle's I/O backends: the only place that imports asyncio, uvloop or trio.

Upper layers call :func:`get_backend` (sniffio detection at the point of use) and
program against the :class:`Backend`, :class:`Connection` and :class:`ConnectionHandler`
protocols. See ``docs/backends.md``.
"""

from __future__ import annotations

from ._detect import get_backend
from ._errors import ServerFingerprintMismatch, UnsupportedAsyncLibraryError
from ._fingerprint import Fingerprint
from ._interface import (
    DEFAULT_HIGH_WATER,
    DEFAULT_LOW_WATER,
    AbstractResolver,
    AddrInfo,
    Backend,
    Connection,
    ConnectionHandler,
    DeadlineScope,
    Event,
    HandlerFactory,
    Listener,
    Lock,
    PeerVerifier,
    Semaphore,
    SocketLike,
    TaskGroup,
    Timer,
    TLSInfo,
)
from ._resolver import Resolver

__all__ = [
    "DEFAULT_HIGH_WATER",
    "DEFAULT_LOW_WATER",
    "AbstractResolver",
    "AddrInfo",
    "Backend",
    "Connection",
    "ConnectionHandler",
    "DeadlineScope",
    "Event",
    "Fingerprint",
    "HandlerFactory",
    "Listener",
    "Lock",
    "PeerVerifier",
    "Resolver",
    "Semaphore",
    "ServerFingerprintMismatch",
    "SocketLike",
    "TLSInfo",
    "TaskGroup",
    "Timer",
    "UnsupportedAsyncLibraryError",
    "get_backend",
]
