"""aiohttp's WebSocket message vocabulary: ``WSMsgType``, ``WSCloseCode``, ``WSMessage``.

Values and names are aiohttp's, so ``msg.type == aiohttp.WSMsgType.TEXT`` and
``ws.close_code == WSCloseCode.GOING_AWAY`` work unchanged with treadle.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from typing import Any, Final, NamedTuple

__all__ = [
    "WS_CLOSED_MESSAGE",
    "WS_CLOSING_MESSAGE",
    "WSCloseCode",
    "WSMessage",
    "WSMsgType",
    "WebSocketError",
]


class WSMsgType(enum.IntEnum):
    """The type of a :class:`WSMessage`: frame opcodes plus three local states."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    PING = 0x9
    PONG = 0xA
    CLOSE = 0x8
    CLOSING = 0x100
    CLOSED = 0x101
    ERROR = 0x102

    # aiohttp's lower-case aliases
    text = TEXT
    binary = BINARY
    ping = PING
    pong = PONG
    close = CLOSE
    closing = CLOSING
    closed = CLOSED
    error = ERROR


class WSCloseCode(enum.IntEnum):
    """Close codes (RFC 6455 7.4.1) under aiohttp's names."""

    OK = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    ABNORMAL_CLOSURE = 1006
    INVALID_TEXT = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014


class WSMessage(NamedTuple):
    """One received item, as aiohttp gives it.

    ``data`` is ``str`` (TEXT), ``bytes`` (BINARY, PING, PONG), the close code
    (CLOSE), the exception (ERROR) or None; ``extra`` is the close reason (CLOSE).
    """

    type: WSMsgType
    data: Any
    extra: Any

    def json(self, *, loads: Callable[[Any], Any] = json.loads) -> Any:
        """Decode a TEXT (or BINARY) message's data as JSON."""
        return loads(self.data)


WS_CLOSED_MESSAGE: Final = WSMessage(WSMsgType.CLOSED, None, None)
WS_CLOSING_MESSAGE: Final = WSMessage(WSMsgType.CLOSING, None, None)


class WebSocketError(Exception):
    """The peer broke the WebSocket protocol; ``code`` is the close code sent to it."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        super().__init__(code, message)

    def __str__(self) -> str:
        return str(self.args[1])
