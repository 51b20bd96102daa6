"""The events of the WebSocket core: what ``next_event`` returns and ``send`` accepts.

Users see whole messages (RFC 6455 section 5.4: fragmentation is a transport detail),
control frames (``Ping``, ``Pong``, ``Close``) as they come, and ``ConnectionClosed``
when the peer vanished without a Close frame. The classes share the HTTP events' base,
so they compare by value.
"""

from __future__ import annotations

import enum

from ._errors import RemoteProtocolError
from ._events import Event

__all__ = [
    "BytesMessage",
    "Close",
    "CloseCode",
    "HandshakeError",
    "Ping",
    "Pong",
    "TextMessage",
    "WebSocketEvent",
    "WebSocketProtocolError",
    "WSState",
]


class CloseCode(enum.IntEnum):
    """Close status codes (RFC 6455 section 7.4.1) with aiohttp's ``WSCloseCode`` names."""

    OK = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RECEIVED = 1005  # never on the wire: a Close frame without a code
    ABNORMAL_CLOSURE = 1006  # never on the wire: the connection dropped without Close
    INVALID_TEXT = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014


class WSState(enum.Enum):
    """Where the closing handshake stands (RFC 6455 sections 5.5.1 and 7.1)."""

    OPEN = "OPEN"
    #: We sent Close and wait for the peer's; data from the peer is still delivered.
    LOCAL_CLOSING = "LOCAL_CLOSING"
    #: The peer sent Close and ``auto_close`` is off: answer with ``send(Close(...))``.
    REMOTE_CLOSING = "REMOTE_CLOSING"
    #: Both Close frames were exchanged, the connection failed, or the peer hung up:
    #: close the transport (a server closes first, RFC 6455 7.1.1).
    CLOSED = "CLOSED"


class WebSocketEvent(Event):
    """Base class of the WebSocket events."""

    __slots__ = ()


class TextMessage(WebSocketEvent):
    """A whole text message (opcode 0x1), decoded from UTF-8."""

    __slots__ = ("data",)

    def __init__(self, data: str) -> None:
        self.data = data


class BytesMessage(WebSocketEvent):
    """A whole binary message (opcode 0x2)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


class Ping(WebSocketEvent):
    """A Ping (RFC 6455 5.5.2); answer with ``Pong(payload)`` (the channel's autoping)."""

    __slots__ = ("payload",)

    def __init__(self, payload: bytes = b"") -> None:
        self.payload = payload


class Pong(WebSocketEvent):
    """A Pong (RFC 6455 5.5.3), solicited or not."""

    __slots__ = ("payload",)

    def __init__(self, payload: bytes = b"") -> None:
        self.payload = payload


class Close(WebSocketEvent):
    """A Close frame (RFC 6455 5.5.1); ``code`` 1005 stands for a Close without a code.

    Received, it is the peer's; sent, it starts (or answers) the closing handshake.
    """

    __slots__ = ("code", "reason")

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        self.code = code
        self.reason = reason


class WebSocketProtocolError(RemoteProtocolError):
    """The peer broke RFC 6455/7692 or a limit; ``code`` is the Close code sent to it.

    1002 protocol error, 1007 invalid UTF-8, 1009 message too big.
    """

    def __init__(self, message: str, code: int = CloseCode.PROTOCOL_ERROR) -> None:
        super().__init__(message, status_hint=400)
        self.code = int(code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, code={self.code})"


class HandshakeError(RemoteProtocolError):
    """An opening handshake (RFC 6455 section 4) was refused.

    On a server, answer with ``status_hint`` and ``headers`` (e.g. 426 with
    ``Sec-WebSocket-Version: 13``); on a client it says what was wrong with the answer.
    """

    def __init__(
        self,
        message: str,
        *,
        status_hint: int = 400,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        super().__init__(message, status_hint=status_hint)
        self.headers: list[tuple[bytes, bytes]] = headers if headers is not None else []
