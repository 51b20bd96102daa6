"""treadle's I/O backends: the only place that imports asyncio, uvloop or trio.

Upper layers call :func:`get_backend` (sniffio detection at the point of use) and
program against the :class:`Backend`, :class:`Connection` and :class:`ConnectionHandler`
protocols. See ``docs/backends.md``.
"""

from __future__ import annotations

from . import _interface
from ._detect import get_backend
from ._errors import ServerFingerprintMismatch, UnsupportedAsyncLibraryError
from ._fingerprint import Fingerprint
from ._interface import *  # noqa: F403  (the interface: everything in _interface.__all__)
from ._memory import MemoryConnection, MemoryListener, memory_connection_pair
from ._resolver import Resolver
from ._run import (
    BACKEND_NAMES,
    BackendName,
    LoopRunner,
    loop_runner,
    run,
    running_asyncio_loop,
)

__all__ = [
    "BACKEND_NAMES",
    "BackendName",
    "Fingerprint",
    "LoopRunner",
    "MemoryConnection",
    "MemoryListener",
    "Resolver",
    "ServerFingerprintMismatch",
    "UnsupportedAsyncLibraryError",
    "get_backend",
    "loop_runner",
    "memory_connection_pair",
    "run",
    "running_asyncio_loop",
]
__all__ += _interface.__all__
