"""``WebSocketConnection``: RFC 6455 messages over a frame engine, without I/O.

Bytes in (``receive_data``), events out (``next_event``/``events``); events in
(``send``), bytes out. The engine cuts frames; this class owns the message rules:
continuation order (5.4), control frames inside fragmented messages, RSV1 only on the
first frame of a compressed message (RFC 7692 6.1), incremental UTF-8 checking of text
(8.1), the message-size and fragment-count limits (checked as frames arrive, inflated
size included), Close payload rules (5.5.1, 7.4) and the closing handshake (7.1).

When the connection answers on its own (the reply to a Close, or the Close that fails
the connection after a protocol error) the bytes wait in :meth:`data_to_send`.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from typing import Final, Literal

from ._errors import LocalProtocolError
from ._events import NEED_DATA, ConnectionClosed, Event, Sentinel
from ._ws_deflate import DeflateCodec, PerMessageDeflate
from ._ws_engines import make_frame_engine, resolve_ws_engine
from ._ws_events import (
    BytesMessage,
    Close,
    CloseCode,
    Ping,
    Pong,
    TextMessage,
    WebSocketProtocolError,
    WSState,
)

__all__ = ["DEFAULT_MAX_FRAGMENTS", "DEFAULT_MAX_MESSAGE_SIZE", "WebSocketConnection"]

DEFAULT_MAX_MESSAGE_SIZE: Final = 4 * 1024 * 1024
DEFAULT_MAX_FRAGMENTS: Final = 65536

_OPEN = WSState.OPEN
_CLOSED = WSState.CLOSED
_REMOTE_CLOSING = WSState.REMOTE_CLOSING
_Utf8Decoder = codecs.getincrementaldecoder("utf-8")


def valid_close_code(code: int) -> bool:
    """Whether ``code`` may appear in a Close frame (RFC 6455 7.4.1, 7.4.2; IANA)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def _close_payload(code: int, reason: str) -> bytes:
    if code == CloseCode.NO_STATUS_RECEIVED:
        if reason:
            raise LocalProtocolError("a Close without a code cannot have a reason")
        return b""
    if not valid_close_code(code):
        raise LocalProtocolError(f"{code} is not a close code that may be sent")
    data = reason.encode("utf-8")
    if len(data) > 123:
        raise LocalProtocolError("a close reason is at most 123 bytes of UTF-8")
    return code.to_bytes(2, "big") + data


def _truncated_reason(message: str) -> str:
    return message.encode("utf-8")[:123].decode("utf-8", "ignore")


class WebSocketConnection:
    """One WebSocket connection's protocol state, client or server side.

    ``deflate``: the agreed permessage-deflate parameters (from the handshake helpers),
    or None. ``max_message_size``: the largest message (after inflation) accepted; more
    closes with 1009 (0 disables the limit). ``max_fragments``: the most frames one
    message may span (1009 beyond). ``auto_close``: answer the peer's Close at once
    (the reply waits in :meth:`data_to_send`). ``engine``: ``"fast"`` or ``"wsproto"``.
    """

    __slots__ = (
        "_auto_close",
        "_codec",
        "_compressed",
        "_decoder",
        "_engine",
        "_eof",
        "_error",
        "_fragments",
        "_max_fragments",
        "_max_size",
        "_msg_opcode",
        "_out",
        "_parts",
        "_serialize",
        "_size",
        "_state",
        "_whole",
        "client",
        "engine",
    )

    def __init__(
        self,
        side: Literal["client", "server"],
        *,
        deflate: PerMessageDeflate | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_fragments: int = DEFAULT_MAX_FRAGMENTS,
        auto_close: bool = True,
        engine: str | None = None,
    ) -> None:
        if side not in ("client", "server"):
            raise ValueError(f"side must be 'client' or 'server', not {side!r}")
        self.client = side == "client"
        self.engine = resolve_ws_engine(engine)
        self._max_size = max_message_size or 0
        self._max_fragments = max_fragments
        self._auto_close = auto_close
        self._codec = DeflateCodec(deflate, client=self.client) if deflate else None
        # A compressed frame may be a little larger than what it inflates to.
        frame_limit = self._max_size
        if frame_limit and deflate:
            frame_limit += (frame_limit >> 4) + 1024
        self._engine = make_frame_engine(
            self.engine,
            client=self.client,
            allow_rsv1=deflate is not None,
            max_frame_size=frame_limit,
        )
        self._serialize = self._engine.serialize
        self._whole: Callable[[bytes], tuple[int, bytes] | None] | None = getattr(
            self._engine, "whole_frame", None
        )
        self._state = _OPEN
        self._error: WebSocketProtocolError | None = None
        self._eof = False
        self._out = bytearray()
        self._msg_opcode = 0  # 0: no message in progress, else 1 (text) or 2 (binary)
        self._parts: list[bytes] | list[str] = []
        self._size = 0
        self._fragments = 0
        self._compressed = False
        self._decoder: codecs.IncrementalDecoder | None = None

    @property
    def state(self) -> WSState:
        return self._state

    # -- receiving -------------------------------------------------------------------

    def receive_data(self, data: bytes | None) -> None:
        """Bytes from the peer; ``b""`` or None means the peer closed (EOF)."""
        if not data:
            self._eof = True
        elif self._eof:
            raise LocalProtocolError("receive_data() called with data after EOF")
        elif self._error is None:
            self._engine.receive_data(data)

    def receive_message(self, data: bytes) -> str | bytes | None:
        """A fast path for a transport's data callback, fast engine only.

        When ``data`` is exactly one whole small unfragmented text or binary frame, and
        nothing else is pending, return its message (``str`` or ``bytes``) without
        building events. Otherwise (or on any doubt: bad UTF-8, over the size limit, a
        message or error in progress, after EOF or the closing handshake) return None
        having consumed nothing: then call :meth:`receive_data` and :meth:`events`.
        """
        whole = self._whole
        if (
            whole is None
            or self._error is not None
            or self._msg_opcode
            or self._eof
            or self._state is _CLOSED
        ):
            return None
        frame = whole(data)
        if frame is None:
            return None
        opcode, payload = frame
        if self._max_size and len(payload) > self._max_size:
            return None
        if opcode == 1:
            try:
                return payload.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return payload

    def events(self) -> Iterator[Event]:
        """Every event available now (stops at ``NEED_DATA``; raises like next_event).

        Whole single-frame messages take an inlined copy of ``next_event``'s hot path;
        everything else goes through ``next_event``.
        """
        next_frame = self._engine.next_frame
        max_size = self._max_size
        while True:
            if self._error is not None or self._msg_opcode or self._state is _CLOSED:
                slow = self.next_event()
                if slow is NEED_DATA:
                    return
                assert isinstance(slow, Event)
                yield slow
                if type(slow) is ConnectionClosed:
                    return
                continue
            try:
                frame = next_frame()
            except WebSocketProtocolError as exc:
                raise self._fail(exc) from None
            if frame is None:
                if self._eof:
                    self._state = _CLOSED
                    yield ConnectionClosed()
                return
            opcode, payload, fin, rsv1 = frame
            if fin and not rsv1 and 0 < opcode < 3:
                if max_size and len(payload) > max_size:
                    raise self._fail(self._too_big(len(payload)))
                if opcode == 1:
                    try:
                        text = payload.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise self._fail(self._bad_text(exc)) from None
                    yield TextMessage(text)
                else:
                    yield BytesMessage(payload)
                continue
            try:
                event = self._frame(opcode, payload, fin, rsv1)
            except WebSocketProtocolError as exc:
                raise self._fail(exc) from None
            if event is not None:
                yield event

    def next_event(self) -> Event | Sentinel:
        """The next event, ``NEED_DATA``, or ``ConnectionClosed()`` after EOF.

        A peer breaking the protocol raises :class:`WebSocketProtocolError` (after the
        events that came before the bad bytes); the Close frame carrying its code waits
        in :meth:`data_to_send`, and the state is CLOSED: close the transport.
        """
        if self._error is not None:
            raise self._error
        engine = self._engine
        while True:
            try:
                frame = engine.next_frame()
            except WebSocketProtocolError as exc:
                raise self._fail(exc) from None
            if frame is None:
                if self._eof:
                    self._state = _CLOSED
                    return ConnectionClosed()
                return NEED_DATA
            opcode, payload, fin, rsv1 = frame
            if self._state is _CLOSED:
                continue  # after the closing handshake nothing more is delivered
            if fin and not rsv1 and not self._msg_opcode and 0 < opcode < 3:
                # The hot path: a whole, uncompressed message in one frame.
                if self._max_size and len(payload) > self._max_size:
                    raise self._fail(self._too_big(len(payload)))
                if opcode == 1:
                    try:
                        return TextMessage(payload.decode("utf-8"))
                    except UnicodeDecodeError as exc:
                        raise self._fail(self._bad_text(exc)) from None
                return BytesMessage(payload)
            try:
                event = self._frame(opcode, payload, fin, rsv1)
            except WebSocketProtocolError as exc:
                raise self._fail(exc) from None
            if event is not None:
                return event

    def _frame(self, opcode: int, payload: bytes, fin: bool, rsv1: bool) -> Event | None:
        if opcode >= 8:
            if rsv1:
                raise WebSocketProtocolError("RSV1 set on a control frame")
            if opcode == 8:
                return self._receive_close(payload)
            return Ping(payload) if opcode == 9 else Pong(payload)
        if opcode == 0:
            if not self._msg_opcode:
                raise WebSocketProtocolError("continuation frame with no message to continue")
            if rsv1:
                raise WebSocketProtocolError("RSV1 set on a continuation frame")
        else:
            if self._msg_opcode:
                raise WebSocketProtocolError("new message started before the last one ended")
            self._msg_opcode = opcode
            self._compressed = rsv1
            self._size = 0
            self._fragments = 0
            self._parts = []
            self._decoder = _Utf8Decoder() if opcode == 1 else None
        self._fragments += 1
        if self._fragments > self._max_fragments:
            raise WebSocketProtocolError(
                f"message in more than {self._max_fragments} frames", CloseCode.MESSAGE_TOO_BIG
            )
        if self._compressed:
            assert self._codec is not None
            limit = self._max_size - self._size if self._max_size else None
            payload = self._codec.inflate(payload, limit, fin)
        self._size += len(payload)
        if self._max_size and self._size > self._max_size:
            raise self._too_big(self._size)
        decoder = self._decoder
        if decoder is not None:
            try:
                text = decoder.decode(payload, fin)
            except UnicodeDecodeError as exc:
                raise self._bad_text(exc) from None
            self._parts.append(text)  # type: ignore[arg-type]
        else:
            self._parts.append(payload)  # type: ignore[arg-type]
        if not fin:
            return None
        parts = self._parts
        self._parts = []
        self._msg_opcode = 0
        self._decoder = None
        if decoder is not None:
            return TextMessage("".join(parts))  # type: ignore[arg-type]
        return BytesMessage(b"".join(parts))  # type: ignore[arg-type]

    def _receive_close(self, payload: bytes) -> Close:
        code: int
        if not payload:
            code, reason = CloseCode.NO_STATUS_RECEIVED, ""
        elif len(payload) == 1:
            raise WebSocketProtocolError("Close frame with a 1-byte payload")
        else:
            code = int.from_bytes(payload[:2], "big")
            if not valid_close_code(code):
                raise WebSocketProtocolError(f"invalid close code {code}")
            try:
                reason = payload[2:].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise self._bad_text(exc) from None
        if self._state is _OPEN:
            if self._auto_close:
                self._out += self._engine.serialize(8, payload[:2])
                self._state = _CLOSED
            else:
                self._state = WSState.REMOTE_CLOSING
        elif self._state is WSState.LOCAL_CLOSING:
            self._state = _CLOSED
        return Close(code, reason)

    def _too_big(self, size: int) -> WebSocketProtocolError:
        return WebSocketProtocolError(
            f"message of {size} bytes or more over the limit of {self._max_size}",
            CloseCode.MESSAGE_TOO_BIG,
        )

    @staticmethod
    def _bad_text(exc: UnicodeDecodeError) -> WebSocketProtocolError:
        return WebSocketProtocolError(f"invalid UTF-8: {exc.reason}", CloseCode.INVALID_TEXT)

    def _fail(self, exc: WebSocketProtocolError) -> WebSocketProtocolError:
        """Fail the connection (RFC 6455 7.1.7): send Close with the code, stop reading."""
        if self._state is _OPEN or self._state is WSState.REMOTE_CLOSING:
            payload = exc.code.to_bytes(2, "big") + _truncated_reason(str(exc)).encode()
            self._out += self._engine.serialize(8, payload)
        self._state = _CLOSED
        self._error = exc
        return exc

    # -- sending ---------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Bytes the connection produced on its own (a Close reply); empties the buffer."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def send(self, event: Event) -> bytes:
        """The bytes of one event: a message, ``Ping``, ``Pong`` or ``Close``.

        Raises :class:`LocalProtocolError` (and emits nothing) for what may not be sent
        now: data after our Close, a control payload over 125 bytes, an invalid code.
        """
        kind = type(event)
        if kind is TextMessage:
            return self.send_text(event.data)  # type: ignore[attr-defined]
        if kind is BytesMessage:
            return self.send_bytes(event.data)  # type: ignore[attr-defined]
        if kind is Ping:
            return self.ping(event.payload)  # type: ignore[attr-defined]
        if kind is Pong:
            return self.pong(event.payload)  # type: ignore[attr-defined]
        if kind is Close:
            return self.close(event.code, event.reason)  # type: ignore[attr-defined]
        raise LocalProtocolError(f"cannot send {event!r} on a WebSocket")

    def send_text(self, text: str) -> bytes:
        state = self._state
        if (state is _OPEN or state is _REMOTE_CLOSING) and self._codec is None:
            return self._serialize(1, text.encode("utf-8"))  # the hot path
        return self._message(1, text.encode("utf-8"))

    def send_bytes(self, data: bytes | bytearray | memoryview) -> bytes:
        state = self._state
        if (state is _OPEN or state is _REMOTE_CLOSING) and self._codec is None:
            return self._serialize(2, bytes(data))  # the hot path
        return self._message(2, bytes(data))

    def send_parts(self, data: str | bytes | bytearray | memoryview) -> tuple[bytes, bytes]:
        """A text (``str``) or binary message as (head, body), ``head + body`` its frame.

        For large messages: writing both avoids copying the payload into one frame (on
        the server side the body is the payload itself). A compressed message is all head.
        """
        if type(data) is str:
            opcode, payload = 1, data.encode("utf-8")
        else:
            opcode, payload = 2, bytes(data)  # type: ignore[arg-type]
        if self._codec is not None:
            return self._message(opcode, payload), b""
        state = self._state
        if state is not _OPEN and state is not WSState.REMOTE_CLOSING:
            raise LocalProtocolError(f"cannot send a message in state {state.name}")
        return self._engine.serialize_parts(opcode, payload)

    def _message(self, opcode: int, payload: bytes) -> bytes:
        state = self._state
        if state is not _OPEN and state is not WSState.REMOTE_CLOSING:
            raise LocalProtocolError(f"cannot send a message in state {state.name}")
        codec = self._codec
        if codec is not None:
            return self._engine.serialize(opcode, codec.compress(payload), True, True)
        return self._engine.serialize(opcode, payload)

    def ping(self, payload: bytes = b"") -> bytes:
        return self._control(9, payload)

    def pong(self, payload: bytes = b"") -> bytes:
        return self._control(10, payload)

    def _control(self, opcode: int, payload: bytes) -> bytes:
        state = self._state
        if state is not _OPEN and state is not WSState.REMOTE_CLOSING:
            raise LocalProtocolError(f"cannot send a control frame in state {state.name}")
        if len(payload) > 125:
            raise LocalProtocolError("a control frame payload is at most 125 bytes")
        return self._engine.serialize(opcode, bytes(payload))

    def close(self, code: int = CloseCode.OK, reason: str = "") -> bytes:
        """Start the closing handshake (OPEN) or answer the peer's Close (REMOTE_CLOSING)."""
        state = self._state
        if state is _OPEN:
            new_state = WSState.LOCAL_CLOSING
        elif state is WSState.REMOTE_CLOSING:
            new_state = _CLOSED
        else:
            raise LocalProtocolError(f"cannot send Close in state {state.name}")
        data = self._engine.serialize(8, _close_payload(int(code), reason))
        self._state = new_state
        return data
