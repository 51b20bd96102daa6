"""The WebSocket message API shared by the client and the server.

:class:`WebSocketChannel` runs an upgraded connection with aiohttp's ``receive`` /
``send_*`` / ``close`` API over the sans-IO core; ``ws_connect`` (client) and
``WebSocketResponse`` (server) wrap it. See ``docs/websocket.md``.
"""

from __future__ import annotations

from ._channel import DEFAULT_CLOSE_TIMEOUT, DEFAULT_MAX_QUEUE_SIZE, WebSocketChannel
from ._models import (
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    WebSocketError,
    WSCloseCode,
    WSMessage,
    WSMsgType,
)

__all__ = [
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_MAX_QUEUE_SIZE",
    "WS_CLOSED_MESSAGE",
    "WS_CLOSING_MESSAGE",
    "WSCloseCode",
    "WSMessage",
    "WSMsgType",
    "WebSocketChannel",
    "WebSocketError",
]
