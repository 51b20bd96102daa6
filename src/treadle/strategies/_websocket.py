"""WebSocket frames built straight from RFC 6455 section 5.2, valid and malformed.

A frame is ``FIN RSV1-3 opcode | MASK length | extended length | masking key |
payload``. The generators here do not use any WebSocket implementation, so they can
judge one: a valid stream must decode to its messages, and every malformed frame must
make a conforming endpoint fail the connection (RFC 6455 7.1.7) with ``close_code``.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass, field

from hypothesis import strategies as st

__all__ = [
    "CLOSE",
    "CONTINUATION",
    "PING",
    "PONG",
    "WS_DEFECTS",
    "BINARY",
    "TEXT",
    "WSFrame",
    "WSMalformedCase",
    "WSStreamCase",
    "encode_frame",
    "malformed_ws_frames",
    "ws_frames",
    "ws_streams",
]

# Opcodes (RFC 6455 5.2; 11.8).
CONTINUATION, TEXT, BINARY = 0x0, 0x1, 0x2
CLOSE, PING, PONG = 0x8, 0x9, 0xA
_RESERVED_OPCODES = (0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF)

# Close status codes an endpoint may send (RFC 6455 7.4.1, 7.4.2; 1012/1013 are IANA
# registered). 1004-1006 and 1015 are reserved or local-only, 1016-2999 unassigned.
_VALID_CLOSE_CODES = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013)
_INVALID_CLOSE_CODES = (0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535)

PROTOCOL_ERROR = 1002
INVALID_PAYLOAD = 1007


def encode_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = None,
    length_size: int | None = None,
) -> bytes:
    """One frame's bytes (RFC 6455 5.2). ``mask``: the 4-byte masking key (client to
    server frames must have one, 5.3); ``length_size`` forces the 7-bit (0), 16-bit (2)
    or 64-bit (8) length form, otherwise the minimal one is used as 5.2 requires."""
    first = (0x80 if fin else 0) | (rsv & 0x7) << 4 | (opcode & 0xF)
    size = len(payload)
    if length_size is None:
        length_size = 0 if size <= 125 else 2 if size <= 0xFFFF else 8
    mask_bit = 0x80 if mask is not None else 0
    if length_size == 0:
        head = struct.pack("!BB", first, mask_bit | size)
    elif length_size == 2:
        head = struct.pack("!BBH", first, mask_bit | 126, size)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, size)
    if mask is None:
        return head + payload
    if len(mask) != 4:
        raise ValueError("a masking key has 4 bytes")
    key = (mask * (size // 4 + 1))[:size]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")
    return head + mask + masked


@dataclass
class WSFrame:
    """A frame's fields; ``data`` is its encoding (with ``mask`` applied if any)."""

    opcode: int
    payload: bytes
    fin: bool = True
    rsv: int = 0
    mask: bytes | None = None
    data: bytes = b""

    def __post_init__(self) -> None:
        if not self.data:
            self.data = encode_frame(
                self.opcode, self.payload, fin=self.fin, rsv=self.rsv, mask=self.mask
            )


_masks = st.binary(min_size=4, max_size=4)


def _key(draw: st.DrawFn, masked: bool) -> bytes | None:
    return draw(_masks) if masked else None


def _payload_sizes() -> st.SearchStrategy[int]:
    # Every length form: 7-bit, 16-bit (126..65535) and a few just over the edges.
    return st.one_of(
        st.integers(0, 20),
        st.sampled_from((124, 125, 126, 127, 65535, 65536)),
        st.integers(0, 300),
    )


@st.composite
def _control_frame(draw: st.DrawFn, masked: bool) -> WSFrame:
    opcode = draw(st.sampled_from((PING, PONG, CLOSE)))
    if opcode == CLOSE:
        payload = b""
        if draw(st.booleans()):
            code = draw(st.one_of(st.sampled_from(_VALID_CLOSE_CODES), st.integers(3000, 4999)))
            # At most 80 bytes of UTF-8: within the 123 a control frame leaves (5.5.1).
            payload = struct.pack("!H", code) + draw(st.text(max_size=20)).encode("utf-8")
    else:
        payload = draw(st.binary(max_size=125))
    return WSFrame(opcode, payload, mask=_key(draw, masked))


@st.composite
def ws_frames(draw: st.DrawFn, *, masked: bool) -> WSFrame:
    """One valid, complete frame: an unfragmented text (UTF-8) or binary message, or a
    control frame (ping/pong up to 125 bytes, close with an optional valid code and
    UTF-8 reason). ``masked=True`` for frames a client sends, False for a server's."""
    if draw(st.integers(0, 2)) == 0:
        return draw(_control_frame(masked))
    size = draw(_payload_sizes())
    if draw(st.booleans()):
        # A short random seed repeated: large payloads without a large draw.
        seed = draw(st.binary(min_size=1, max_size=16))
        payload = (seed * (size // len(seed) + 1))[:size]
        return WSFrame(BINARY, payload, mask=_key(draw, masked))
    payload = draw(st.text(max_size=30)).encode("utf-8")
    payload += b"a" * (size - len(payload))
    return WSFrame(TEXT, payload, mask=_key(draw, masked))


@dataclass
class WSStreamCase:
    """A valid frame stream: ``data`` (all frames), ``frames``, and the ``messages``
    it carries as ``(opcode, payload)`` with fragments joined (control frames are
    messages of their own, in stream order)."""

    data: bytes = b""
    frames: list[WSFrame] = field(default_factory=list)
    messages: list[tuple[int, bytes]] = field(default_factory=list)


def _fragments(draw: st.DrawFn, payload: bytes, count: int) -> list[bytes]:
    size = len(payload)
    cuts = sorted(draw(st.lists(st.integers(0, size), min_size=count - 1, max_size=count - 1)))
    return [payload[a:b] for a, b in itertools.pairwise([0, *cuts, size])]


@st.composite
def ws_streams(draw: st.DrawFn, *, masked: bool, max_messages: int = 4) -> WSStreamCase:
    """Messages, each in one or more frames (RFC 6455 5.4: text/binary then
    continuations, fragment boundaries anywhere, even inside a UTF-8 sequence), with
    control frames interleaved between fragments. Ends with no message open."""
    case = WSStreamCase()
    for _ in range(draw(st.integers(1, max_messages))):
        if draw(st.integers(0, 3)) == 0:
            frame = draw(_control_frame(masked))
            if frame.opcode == CLOSE:
                continue  # a close ends the stream: only ever last (added below)
            case.frames.append(frame)
            case.messages.append((frame.opcode, frame.payload))
            continue
        opcode = draw(st.sampled_from((TEXT, BINARY)))
        if opcode == TEXT:
            payload = draw(st.text(max_size=40)).encode("utf-8")
        else:
            payload = draw(st.binary(max_size=200))
        pieces = _fragments(draw, payload, draw(st.integers(1, 4)))
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            frame_opcode = opcode if index == 0 else CONTINUATION
            case.frames.append(WSFrame(frame_opcode, piece, fin=last, mask=_key(draw, masked)))
            if not last and draw(st.integers(0, 3)) == 0:
                control = draw(_control_frame(masked).filter(lambda f: f.opcode != CLOSE))
                case.frames.append(control)
                case.messages.append((control.opcode, control.payload))
        case.messages.append((opcode, payload))
    if draw(st.booleans()):
        close = draw(_control_frame(masked).filter(lambda f: f.opcode == CLOSE))
        case.frames.append(close)
        case.messages.append((CLOSE, close.payload))
    case.data = b"".join(frame.data for frame in case.frames)
    return case


@dataclass
class WSMalformedCase:
    """Bytes a receiver must refuse: ``defect`` names the broken rule, ``close_code``
    is the status it fails the connection with (1002 protocol error, 1007 bad UTF-8)."""

    data: bytes
    defect: str
    close_code: int = PROTOCOL_ERROR


#: Every defect :func:`malformed_ws_frames` knows.
WS_DEFECTS = (
    "rsv-bits",
    "reserved-opcode",
    "fragmented-control",
    "control-too-long",
    "close-one-byte",
    "close-code",
    "close-reason-utf8",
    "text-utf8",
    "orphan-continuation",
    "interleaved-message",
    "non-minimal-length",
    "length-msb",
    "wrong-masking",
)

_BAD_UTF8 = (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xe2\x82")


@st.composite
def malformed_ws_frames(
    draw: st.DrawFn, *, masked: bool, defects: tuple[str, ...] = WS_DEFECTS
) -> WSMalformedCase:
    """A frame (sometimes after valid ones) that breaks one rule of RFC 6455 5-8,
    received by a server (``masked=True``: its peer must mask) or a client (False).
    No extension is negotiated, so any RSV bit is an error (5.2)."""
    defect = draw(st.sampled_from(defects))
    mask = _key(draw, masked)
    prefix = b""
    code = PROTOCOL_ERROR
    if defect == "rsv-bits":
        opcode = draw(st.sampled_from((TEXT, BINARY, PING)))
        data = encode_frame(opcode, b"x", rsv=draw(st.integers(1, 7)), mask=mask)
    elif defect == "reserved-opcode":
        data = encode_frame(draw(st.sampled_from(_RESERVED_OPCODES)), b"", mask=mask)
    elif defect == "fragmented-control":
        data = encode_frame(draw(st.sampled_from((PING, PONG, CLOSE))), b"", fin=False, mask=mask)
    elif defect == "control-too-long":
        size = draw(st.integers(126, 300))
        data = encode_frame(draw(st.sampled_from((PING, PONG, CLOSE))), b"p" * size, mask=mask)
    elif defect == "close-one-byte":
        data = encode_frame(CLOSE, draw(st.binary(min_size=1, max_size=1)), mask=mask)
    elif defect == "close-code":
        payload = struct.pack("!H", draw(st.sampled_from(_INVALID_CLOSE_CODES)))
        data = encode_frame(CLOSE, payload, mask=mask)
    elif defect == "close-reason-utf8":
        payload = struct.pack("!H", 1000) + b"ok" + draw(st.sampled_from(_BAD_UTF8))
        data = encode_frame(CLOSE, payload, mask=mask)
        code = INVALID_PAYLOAD
    elif defect == "text-utf8":
        good = draw(st.text(max_size=10)).encode("utf-8")
        data = encode_frame(TEXT, good + draw(st.sampled_from(_BAD_UTF8)), mask=mask)
        code = INVALID_PAYLOAD
    elif defect == "orphan-continuation":
        data = encode_frame(CONTINUATION, b"tail", fin=draw(st.booleans()), mask=mask)
    elif defect == "interleaved-message":
        # RFC 6455 5.4: a new data frame while a fragmented message is still open.
        prefix = encode_frame(BINARY, b"first", fin=False, mask=mask)
        opcode = draw(st.sampled_from((TEXT, BINARY)))
        data = encode_frame(opcode, b"second", mask=_key(draw, masked))
    elif defect == "non-minimal-length":
        # RFC 6455 5.2: "the minimal number of bytes MUST be used to encode the length".
        size = draw(st.integers(0, 300))
        form = draw(st.sampled_from((2, 8))) if size <= 125 else 8
        data = encode_frame(BINARY, b"z" * size, mask=mask, length_size=form)
    elif defect == "length-msb":
        first = 0x80 | BINARY
        head = struct.pack("!BBQ", first, (0x80 if masked else 0) | 127, (1 << 63) | 5)
        data = head + (mask or b"") + b"hello"
    elif defect == "wrong-masking":
        # RFC 6455 5.1: clients must mask, servers must not.
        data = encode_frame(BINARY, b"data", mask=None if masked else draw(_masks))
    else:
        raise ValueError(f"unknown defect {defect!r}")
    if draw(st.booleans()):
        # Valid traffic first: the error must still be found.
        prefix = draw(ws_frames(masked=masked).filter(lambda f: f.opcode != CLOSE)).data + prefix
    return WSMalformedCase(prefix + data, defect, code)
