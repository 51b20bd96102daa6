"""asyncio backend: ``asyncio.Protocol`` transports; runs unchanged on uvloop's loop."""

from __future__ import annotations

from ._backend import AsyncioBackend
from ._connection import AsyncioConnection
from ._listener import AsyncioListener

__all__ = ["AsyncioBackend", "AsyncioConnection", "AsyncioListener"]
