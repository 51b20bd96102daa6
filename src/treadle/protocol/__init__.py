"""treadle's sans-IO HTTP/1.1 core: bytes in, events out; events in, bytes out.

It never performs I/O and never looks at a clock, so it can be driven over any
transport: treadle's own backends, a test harness, an in-memory pipe or a plain socket.
See ``docs/protocol.md``.
"""

from __future__ import annotations

from ._client import ClientConnection
from ._engines import ENGINE_NAMES, available_engines
from ._errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from ._events import (
    NEED_DATA,
    PAUSED,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    Headers,
    InformationalResponse,
    Request,
    Response,
    Sentinel,
)
from ._limits import Limits
from ._server import ServerConnection

__all__ = [
    "ENGINE_NAMES",
    "NEED_DATA",
    "PAUSED",
    "ClientConnection",
    "ConnectionClosed",
    "Data",
    "EndOfMessage",
    "Event",
    "Headers",
    "InformationalResponse",
    "Limits",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "Request",
    "Response",
    "Sentinel",
    "ServerConnection",
    "available_engines",
]
