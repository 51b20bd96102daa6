"""Helpers for the WebSocket core tests: raw frames and a driver collecting outcomes."""

from __future__ import annotations

from collections.abc import Iterable

from treadle.protocol import (
    WS_ENGINE_NAMES,
    ConnectionClosed,
    Event,
    WebSocketConnection,
    WebSocketProtocolError,
)
from treadle.protocol._ws_mask import python_mask

ENGINES = WS_ENGINE_NAMES
MASK = b"\x37\xfa\x21\x3d"


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = MASK,
    length: int | None = None,
    long_form: int = 0,
) -> bytes:
    """One raw frame; ``mask=None`` sends it unmasked (as a server does).

    ``length`` overrides the declared length; ``long_form`` forces the 2 (126) or 8
    (127) byte length encoding even when shorter would do.
    """
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mbit = 0x80 if mask is not None else 0
    if long_form == 127 or (not long_form and n >= 0x10000):
        head = bytes((b0, mbit | 127)) + n.to_bytes(8, "big")
    elif long_form == 126 or n >= 126:
        head = bytes((b0, mbit | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((b0, mbit | n))
    if mask is None:
        return head + payload
    return head + mask + python_mask(payload, mask)


def client_frame(opcode: int, payload: bytes = b"", **kw: object) -> bytes:
    """A frame as a client sends it (masked), for a server-side connection."""
    return frame(opcode, payload, **kw)  # type: ignore[arg-type]


def server_frame(opcode: int, payload: bytes = b"", **kw: object) -> bytes:
    return frame(opcode, payload, mask=None, **kw)  # type: ignore[arg-type]


class Outcome:
    def __init__(self, events: list[Event], code: int | None, sent: bytes) -> None:
        self.events = events
        self.code = code
        self.sent = sent

    def key(self) -> tuple[object, ...]:
        return (self.events, self.code)

    def __repr__(self) -> str:
        return f"Outcome({self.events!r}, code={self.code})"


def drive(conn: WebSocketConnection, chunks: Iterable[bytes], eof: bool = False) -> Outcome:
    """Feed every chunk, collecting events until an error; the close code if any."""
    events: list[Event] = []
    try:
        for chunk in chunks:
            conn.receive_data(chunk)
            events.extend(e for e in conn.events() if type(e) is not ConnectionClosed)
        if eof:
            conn.receive_data(b"")
            events.extend(conn.events())
    except WebSocketProtocolError as exc:
        return Outcome(events, exc.code, conn.data_to_send())
    return Outcome(events, None, conn.data_to_send())
