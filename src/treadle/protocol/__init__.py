"""treadle's sans-IO HTTP/1.1 and WebSocket core: bytes in, events out; events in, bytes out.

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
from ._ws_connection import WebSocketConnection
from ._ws_deflate import PerMessageDeflate
from ._ws_engines import WS_ENGINE_NAMES
from ._ws_events import (
    BytesMessage,
    Close,
    CloseCode,
    HandshakeError,
    Ping,
    Pong,
    TextMessage,
    WebSocketEvent,
    WebSocketProtocolError,
    WSState,
)
from ._ws_handshake import ClientHandshake, ServerHandshake, accept_key, generate_key

__all__ = [
    "ENGINE_NAMES",
    "WS_ENGINE_NAMES",
    "BytesMessage",
    "ClientHandshake",
    "Close",
    "CloseCode",
    "HandshakeError",
    "PerMessageDeflate",
    "Ping",
    "Pong",
    "ServerHandshake",
    "TextMessage",
    "WSState",
    "WebSocketConnection",
    "WebSocketEvent",
    "WebSocketProtocolError",
    "accept_key",
    "generate_key",
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
