"""treadle's own frame engine (RFC 6455 section 5.2): the fast one, the default.

It only cuts the byte stream into frames, checks each header and unmasks payloads; the
connection (``_ws_connection.py``) owns every message-level rule. It returns whole
frames: the header's declared length is checked against ``max_frame_size`` before any
payload is buffered, so waiting for a whole frame is bounded. Checks run in the order
wsproto runs them, so both engines report the same close code for the same bytes.
"""

from __future__ import annotations

from os import urandom

from ._ws_events import CloseCode, WebSocketProtocolError
from ._ws_mask import apply_mask

__all__ = ["Frame", "FrameEngine", "FastFrameEngine", "CONTROL_OPCODES", "DATA_OPCODES"]

#: ``(opcode, payload, fin, rsv1)`` of one whole frame, unmasked.
Frame = tuple[int, bytes, bool, bool]

DATA_OPCODES = frozenset((0x0, 0x1, 0x2))
CONTROL_OPCODES = frozenset((0x8, 0x9, 0xA))
_VALID = DATA_OPCODES | CONTROL_OPCODES


class FrameEngine:
    """The seam between the connection and a framing engine (structural, no state).

    ``client``: we are the client (we mask, the peer must not). ``allow_rsv1``: an
    extension (permessage-deflate) claimed RSV1. ``max_frame_size``: refuse (1009) a
    frame declaring a longer payload; 0 disables the check.
    """

    def receive_data(self, data: bytes) -> None:
        raise NotImplementedError

    def next_frame(self) -> Frame | None:
        """The next whole frame, or None when more bytes are needed.

        Raises :class:`WebSocketProtocolError` (with the close code) on a bad header.
        """
        raise NotImplementedError

    def serialize(self, opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False) -> bytes:
        """One frame on the wire, masked with a fresh random key when we are the client."""
        raise NotImplementedError

    def serialize_parts(
        self, opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False
    ) -> tuple[bytes, bytes]:
        """``serialize`` as (head, body), ``head + body`` being the frame.

        For large payloads: the caller writes both, so the payload is not copied into a
        concatenation (a server's body is the payload itself). By default the whole frame
        is the head.
        """
        return self.serialize(opcode, payload, fin, rsv1), b""


#: Frames declaring at least this many payload bytes are gathered as a list of chunks
#: while incomplete, then joined once (no re-concatenated buffer, no copy out of it).
GATHER_SIZE = 16 * 1024


#: Two-byte headers of small final unextended frames: ``_HEADS[opcode][mask bit | length]``.
_HEADS = [[bytes((op | 0x80, n)) for n in range(256)] for op in range(16)]


def _new_keys() -> list[bytes]:
    """64 fresh masking keys from one system call (RFC 6455 5.3: strong entropy)."""
    pool = urandom(256)
    return [pool[i : i + 4] for i in range(0, 256, 4)]


def _fail(message: str, code: int = CloseCode.PROTOCOL_ERROR) -> WebSocketProtocolError:
    return WebSocketProtocolError(message, code)


class FastFrameEngine(FrameEngine):
    """Pure-Python frame parsing with whole-payload unmasking (see ``_ws_mask``)."""

    __slots__ = (
        "_allow_rsv1",
        "_buf",
        "_client",
        "_gathered",
        "_keys",
        "_max_frame_size",
        "_parts",
        "_pending",
        "_pos",
        "_small_ok",
    )

    def __init__(self, *, client: bool, allow_rsv1: bool = False, max_frame_size: int = 0) -> None:
        self._client = client
        self._allow_rsv1 = allow_rsv1
        self._max_frame_size = max_frame_size
        self._small_ok = not max_frame_size or max_frame_size > 125
        self._keys: list[bytes] = []
        self._buf: bytes | bytearray = b""
        self._pos = 0
        # A large frame's payload being gathered: its chunks, how many bytes they hold,
        # and (payload length, opcode, fin, rsv1, mask key or None).
        self._parts: list[bytes | memoryview] | None = None
        self._gathered = 0
        self._pending: tuple[int, int, bool, bool, bytes | None] = (0, 0, True, False, None)

    def receive_data(self, data: bytes) -> None:
        parts = self._parts
        if parts is not None:
            parts.append(data)
            self._gathered += len(data)
            return
        buf = self._buf
        pos = self._pos
        if pos >= len(buf):
            self._buf = data  # the common case: no partial frame left, no copy
            self._pos = 0
            return
        if pos or type(buf) is bytes:
            buf = bytearray(memoryview(buf)[pos:])
            self._pos = 0
        buf += data
        self._buf = buf

    def next_frame(self) -> Frame | None:
        buf = self._buf
        pos = self._pos
        avail = len(buf) - pos
        if avail < 2:
            return None if self._parts is None else self._gathered_frame()
        b0 = buf[pos]
        b1 = buf[pos + 1]
        if (b0 == 0x81 or b0 == 0x82) and (b1 & 0x7F) < 126 and self._small_ok:
            # The hot path: a whole small text/binary message, correctly (un)masked.
            if self._client:
                if b1 < 126:
                    end = pos + 2 + b1
                    if len(buf) >= end:
                        self._pos = end
                        if type(buf) is bytes:
                            return b0 & 0x0F, buf[pos + 2 : end], True, False
                        return b0 & 0x0F, bytes(buf[pos + 2 : end]), True, False
                    return None
            elif b1 & 0x80:
                end = pos + 6 + (b1 & 0x7F)
                if len(buf) >= end:
                    self._pos = end
                    return (
                        b0 & 0x0F,
                        apply_mask(buf[pos + 6 : end], buf[pos + 2 : pos + 6]),
                        True,
                        False,
                    )
                return None
        opcode = b0 & 0x0F
        if opcode not in _VALID:
            raise _fail(f"invalid opcode {opcode:#x}")
        length = b1 & 0x7F
        if opcode >= 8:
            if not b0 & 0x80:
                raise _fail("fragmented control frame")
            if length > 125:
                raise _fail("control frame payload longer than 125 bytes")
        start = pos + 2
        if length == 126:
            if avail < 4:
                return None
            length = (buf[start] << 8) | buf[start + 1]
            start += 2
            if length < 126:
                raise _fail("payload length not minimally encoded")
        elif length == 127:
            if avail < 10:
                return None
            length = int.from_bytes(buf[start : start + 8], "big")
            start += 8
            if length < 0x10000:
                raise _fail("payload length not minimally encoded")
            if length >> 63:
                raise _fail("8-byte payload length with the top bit set")
        if b0 & 0x70 and (b0 & 0x30 or not self._allow_rsv1):
            raise _fail("reserved bits set without an extension that uses them")
        if self._max_frame_size and length > self._max_frame_size:
            raise _fail(
                f"frame of {length} bytes over the limit of {self._max_frame_size}",
                CloseCode.MESSAGE_TOO_BIG,
            )
        if b1 & 0x80:
            if self._client:
                raise _fail("the server sent a masked frame")
            end = start + 4 + length
            if len(buf) < end:
                if length >= GATHER_SIZE and len(buf) >= start + 4:
                    self._gather(buf, start + 4, length, bytes(buf[start : start + 4]), b0)
                return None
            view = memoryview(buf)
            payload = apply_mask(view[start + 4 : end], bytes(view[start : start + 4]))
        else:
            if not self._client:
                raise _fail("the client sent an unmasked frame")
            end = start + length
            if len(buf) < end:
                if length >= GATHER_SIZE:
                    self._gather(buf, start, length, None, b0)
                return None
            payload = buf[start:end] if type(buf) is bytes else bytes(memoryview(buf)[start:end])
        self._pos = end
        return opcode, payload, bool(b0 & 0x80), bool(b0 & 0x40)

    def whole_frame(self, data: bytes) -> tuple[int, bytes] | None:
        """``(opcode, payload)`` when ``data`` is exactly one small whole text or binary
        frame, correctly masked or not, and no bytes are pending; else None.

        Consumes nothing: on None the caller feeds ``data`` the ordinary way, which
        parses it again (and raises whatever a bad frame deserves).
        """
        if self._pos < len(self._buf) or self._parts is not None or not self._small_ok:
            return None
        n = len(data)
        if n < 2 or type(data) is not bytes:  # a payload sliced from bytes is bytes
            return None
        b0 = data[0]
        if b0 != 0x81 and b0 != 0x82:
            return None
        b1 = data[1]
        if self._client:
            if b1 < 126 and n == 2 + b1:
                return b0 & 0x0F, data[2:]
        elif 0x80 <= b1 < 0xFE and n == 6 + (b1 & 0x7F):
            return b0 & 0x0F, apply_mask(data[6:], data[2:6])
        return None

    def _gather(
        self, buf: bytes | bytearray, start: int, length: int, key: bytes | None, b0: int
    ) -> None:
        """Start gathering an incomplete large frame whose payload begins at ``start``.

        Its length was checked against ``max_frame_size`` already, so what is gathered
        is bounded.
        """
        self._parts = [memoryview(buf)[start:]]
        self._gathered = len(buf) - start
        self._pending = (length, b0 & 0x0F, bool(b0 & 0x80), bool(b0 & 0x40), key)
        self._buf = b""
        self._pos = 0

    def _gathered_frame(self) -> Frame | None:
        length, opcode, fin, rsv1, key = self._pending
        extra = self._gathered - length
        if extra < 0:
            return None
        parts = self._parts
        assert parts is not None
        if extra:
            last = memoryview(parts[-1])
            cut = len(last) - extra
            parts[-1] = last[:cut]
            self._buf = bytes(last[cut:])
        self._parts = None
        self._gathered = 0
        if key is not None:
            # Unmask chunk by chunk (each from its offset's place in the key): the
            # chunks are small enough to stay in cache, the join is the only big copy.
            offset = 0
            for i, part in enumerate(parts):
                shift = offset & 3
                parts[i] = apply_mask(part, key[shift:] + key[:shift] if shift else key)
                offset += len(part)
        return opcode, b"".join(parts), fin, rsv1

    def serialize_parts(
        self, opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False
    ) -> tuple[bytes, bytes]:
        b0 = opcode | (0x80 if fin else 0) | (0x40 if rsv1 else 0)
        n = len(payload)
        if n < 126:
            head = bytes((b0, n))
        elif n < 0x10000:
            head = bytes((b0, 126)) + n.to_bytes(2, "big")
        else:
            head = bytes((b0, 127)) + n.to_bytes(8, "big")
        if not self._client:
            return head, payload
        keys = self._keys
        if not keys:
            keys = self._keys = _new_keys()
        key = keys.pop()
        return bytes((head[0], head[1] | 0x80)) + head[2:] + key, apply_mask(payload, key)

    def serialize(self, opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False) -> bytes:
        n = len(payload)
        if n < 126 and fin and not rsv1:
            # The hot path: a small whole uncompressed message or control frame.
            if not self._client:
                return _HEADS[opcode][n] + payload
            keys = self._keys
            if not keys:
                keys = self._keys = _new_keys()
            key = keys.pop()
            return _HEADS[opcode][n | 0x80] + key + apply_mask(payload, key)
        b0 = opcode | (0x80 if fin else 0) | (0x40 if rsv1 else 0)
        if self._client:
            if n < 126:
                head = bytes((b0, 0x80 | n))
            elif n < 0x10000:
                head = bytes((b0, 0xFE)) + n.to_bytes(2, "big")
            else:
                head = bytes((b0, 0xFF)) + n.to_bytes(8, "big")
            keys = self._keys
            if not keys:
                keys = self._keys = _new_keys()
            key = keys.pop()
            return head + key + apply_mask(payload, key)
        if n < 126:
            return bytes((b0, n)) + payload
        if n < 0x10000:
            return bytes((b0, 126)) + n.to_bytes(2, "big") + payload
        return bytes((b0, 127)) + n.to_bytes(8, "big") + payload
