"""Malformed HTTP/1.1 messages: one targeted defect each, or random corruption.

:func:`malformed_requests` and :func:`malformed_responses` start from a valid message
and break exactly one rule of RFC 9110/9112 (a named ``defect``), so a conforming
parser must refuse every case; ``status_hint`` is the status a server answers with
(treadle's ``RemoteProtocolError.status_hint``). :func:`mutated` corrupts bytes at
random instead: the result may still be valid, it only has to never crash a parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hypothesis import strategies as st

from ._http import METHODS, TCHAR, _hosts, header_names, header_values, targets

__all__ = [
    "REQUEST_DEFECTS",
    "RESPONSE_DEFECTS",
    "MalformedCase",
    "malformed_requests",
    "malformed_responses",
    "mutated",
]

#: Defaults of :class:`treadle.protocol.Limits` (and aiohttp's): exceeded on purpose.
MAX_LINE = 8190
MAX_FIELD = 8190
MAX_HEADERS = 128


@dataclass
class MalformedCase:
    """Bytes that break one rule: ``defect`` names it, ``status_hint`` is the answer
    a server gives (400, 413, 414, 431, 501 or 505). Feed ``data`` then EOF."""

    data: bytes
    defect: str
    status_hint: int = 400


# Shared defects of a head's field section (RFC 9110 5.1, 5.5; RFC 9112 5).
_SEPARATORS = b'()<>@,;\\"/[]?={} \t'
_CTL = (b"\x00", b"\x01", b"\x08", b"\x0b", b"\x0c", b"\x1b", b"\x1f", b"\x7f")
_FIELD_DEFECTS = (
    "name-token",
    "value-ctl",
    "cr-injection",
    "lf-injection",
    "obs-fold",
    "cl-te",
    "cl-duplicate",
    "cl-invalid",
    "chunk-size",
    "chunk-data",
    "trailer-field",
    "truncated",
    "field-too-long",
    "too-many-fields",
)
#: Every defect :func:`malformed_requests` knows.
REQUEST_DEFECTS = (
    *_FIELD_DEFECTS,
    "method-token",
    "target-char",
    "version",
    "cl-overflow",
    "te-not-chunked",
    "te-http10",
    "host-missing",
    "host-duplicate",
    "line-too-long",
)
#: Every defect :func:`malformed_responses` knows.
RESPONSE_DEFECTS = (
    *_FIELD_DEFECTS,
    "status-code",
    "version",
    "te-unknown",
    "line-too-long",
    "reason-ctl",
)


def _insert(draw: st.DrawFn, data: bytes, piece: bytes, *, lo: int = 0) -> bytes:
    at = draw(st.integers(lo, len(data)))
    return data[:at] + piece + data[at:]


@dataclass
class _Message:
    """A message being built: start line, field lines, body (all wire bytes)."""

    start: bytes
    fields: list[bytes]
    body: bytes = b""

    def wire(self) -> bytes:
        lines = b"".join(line + b"\r\n" for line in self.fields)
        return self.start + b"\r\n" + lines + b"\r\n" + self.body


def _field(name: bytes, value: bytes) -> bytes:
    return name + b": " + value


@st.composite
def _fields(draw: st.DrawFn) -> list[bytes]:
    names = draw(st.lists(header_names(), min_size=1, max_size=4))
    return [_field(name, draw(header_values(allow_obs_text=False))) for name in names]


@st.composite
def _chunked(draw: st.DrawFn) -> tuple[list[bytes], list[bytes]]:
    """Chunks as ``[size line, data]`` pairs flattened, ending with the last chunk."""
    pieces = draw(st.lists(st.binary(min_size=1, max_size=16), min_size=1, max_size=3))
    lines: list[bytes] = []
    for piece in pieces:
        lines += [b"%x" % len(piece), piece]
    return lines, [b"0"]


def _place(draw: st.DrawFn, fields: list[bytes], line: bytes) -> None:
    fields.insert(draw(st.integers(0, len(fields))), line)


@st.composite
def _field_defect(draw: st.DrawFn, message: _Message, defect: str) -> int:
    """Apply one field-section or body defect in place; returns the status hint."""
    fields = message.fields
    if defect == "name-token":
        kind = draw(st.sampled_from(("separator", "empty", "space-before-colon")))
        name = draw(st.text(TCHAR, min_size=1, max_size=8)).encode("ascii")
        if kind == "separator":
            name = _insert(draw, name, bytes([draw(st.sampled_from(_SEPARATORS))]))
            line = name + b": x"
        elif kind == "empty":
            line = b": " + name
        else:
            line = name + draw(st.sampled_from((b" ", b"\t"))) + b": x"
        _place(draw, fields, line)
    elif defect in ("value-ctl", "cr-injection", "lf-injection"):
        value = draw(header_values(allow_obs_text=False))
        if defect == "value-ctl":
            piece = draw(st.sampled_from(_CTL))
        elif defect == "cr-injection":
            piece = b"\r" + draw(st.sampled_from((b"x", b"X-Injected: 1", b" ", b":")))
        else:
            piece = b"\n" + draw(st.sampled_from((b"x", b"X-Injected: 1", b"Set-Cookie: a=b")))
        _place(draw, fields, _field(draw(header_names()), _insert(draw, value, piece)))
    elif defect == "obs-fold":
        # RFC 9112 5.2: a server must reject it (or replace it, which treadle does not).
        index = draw(st.integers(0, len(fields) - 1))
        fold = draw(st.sampled_from((b" ", b"\t", b"  "))) + draw(header_values()) + b"x"
        fields.insert(index + 1, fold)
    elif defect == "cl-te":
        # RFC 9112 6.1: both present is how requests get smuggled.
        lines, last = draw(_chunked())
        message.body = b"\r\n".join([*lines, *last]) + b"\r\n\r\n"
        _place(draw, fields, b"Transfer-Encoding: chunked")
        _place(draw, fields, b"Content-Length: %d" % draw(st.integers(0, len(message.body))))
    elif defect == "cl-duplicate":
        body = draw(st.binary(min_size=1, max_size=16))
        message.body = body
        second = draw(st.sampled_from((len(body), len(body) + 1, 0)))
        if draw(st.booleans()):
            _place(draw, fields, b"Content-Length: %d" % len(body))
            _place(draw, fields, b"Content-Length: %d" % second)
        else:
            _place(draw, fields, b"Content-Length: %d, %d" % (len(body), second))
    elif defect == "cl-invalid":
        value = draw(st.sampled_from((b"-1", b"+1", b"0x10", b"", b"1 2", b"1.0", b"1e3", b"a")))
        _place(draw, fields, b"Content-Length: " + value)
        message.body = b"abcdefghijklmnopq"
    elif defect in ("chunk-size", "chunk-data", "trailer-field"):
        lines, last = draw(_chunked())
        if defect == "chunk-size":
            bad = draw(st.sampled_from((b"zz", b"-1", b"", b" 3", b"0x3", b"1 0", b"f" * 17, b"g")))
            lines[2 * draw(st.integers(0, len(lines) // 2 - 1))] = bad
            trailer = b"\r\n"
        elif defect == "chunk-data":
            index = 2 * draw(st.integers(0, len(lines) // 2 - 1)) + 1
            lines[index] += draw(st.binary(min_size=1, max_size=4).filter(lambda b: b[:1] != b"\r"))
            trailer = b"\r\n"
        else:
            name = draw(header_names())
            trailer = _field(name, _insert(draw, b"v", draw(st.sampled_from(_CTL)))) + b"\r\n\r\n"
        message.body = b"\r\n".join([*lines, *last]) + b"\r\n" + trailer
        _place(draw, fields, b"Transfer-Encoding: chunked")
    elif defect == "truncated":
        body = draw(st.binary(max_size=16))
        if draw(st.booleans()):
            _place(draw, fields, b"Content-Length: %d" % (len(body) + draw(st.integers(1, 99))))
            message.body = body
        else:
            _place(draw, fields, b"Transfer-Encoding: chunked")
            message.body = b"%x\r\n" % (len(body) + draw(st.integers(1, 99))) + body
    elif defect == "field-too-long":
        size = MAX_FIELD + draw(st.integers(1, 64))
        if draw(st.booleans()):
            _place(draw, fields, _field(b"X-Long", b"v" * size))
        else:
            _place(draw, fields, _field(b"X" * size, b"v"))
        return 431
    elif defect == "too-many-fields":
        count = MAX_HEADERS + draw(st.integers(1, 8))
        fields += [b"X-Many-%d: %d" % (i, i) for i in range(count)]
        return 431
    else:
        raise ValueError(f"unknown defect {defect!r}")
    return 400


def _version(draw: st.DrawFn) -> tuple[bytes, int]:
    # 0.9 and 2.0 are well-formed versions treadle does not speak (505); the rest are
    # not HTTP-version syntax (RFC 9112 2.3).
    return draw(
        st.sampled_from(
            (
                (b"HTTP/1.x", 400),
                (b"HTTP/11", 400),
                (b"HTTP/1.1.1", 400),
                (b"HTTPS/1.1", 400),
                (b"HTTP/3.0", 400),
                (b"HTTP/1.10", 400),
                (b"HTTP/", 400),
            )
        )
    )


@st.composite
def malformed_requests(
    draw: st.DrawFn, *, defects: tuple[str, ...] = REQUEST_DEFECTS
) -> MalformedCase:
    """A request with one defect from ``defects`` (see :data:`REQUEST_DEFECTS`)."""
    defect = draw(st.sampled_from(defects))
    method = draw(st.sampled_from(METHODS))
    target = draw(targets(method))
    version = b"HTTP/1.1"
    fields = draw(_fields())
    host = True
    message = _Message(b"", fields)
    status = 400
    if defect == "method-token":
        method = _insert(draw, method, bytes([draw(st.sampled_from(_SEPARATORS))]))
    elif defect == "target-char":
        piece = draw(st.sampled_from((b" x", *_CTL, b"\xff", b"\x80")))
        target = _insert(draw, target, piece, lo=1)
    elif defect == "version":
        version, status = _version(draw)
    elif defect == "cl-overflow":
        _place(draw, fields, b"Content-Length: " + draw(st.sampled_from(_HUGE_LENGTHS)))
        status = 413
    elif defect == "te-not-chunked":
        # RFC 9112 6.3: a request body must end with the chunked coding.
        value = draw(st.sampled_from((b"gzip", b"chunked, gzip", b"deflate", b"br")))
        _place(draw, fields, b"Transfer-Encoding: " + value)
        message.body = b"0\r\n\r\n"
    elif defect == "te-http10":
        version = b"HTTP/1.0"
        _place(draw, fields, b"Transfer-Encoding: chunked")
        message.body = b"0\r\n\r\n"
    elif defect == "host-missing":
        host = False
    elif defect == "host-duplicate":
        _place(draw, fields, b"Host: " + draw(_hosts))
    elif defect == "line-too-long":
        target = b"/" + b"a" * (MAX_LINE + draw(st.integers(0, 64)))
        status = 414
    else:
        status = draw(_field_defect(message, defect))
    if host:
        _place(draw, fields, b"Host: " + draw(_hosts))
    message.start = method + b" " + target + b" " + version
    return MalformedCase(message.wire(), defect, status)


_HUGE_LENGTHS = (b"99999999999999999999999", b"18446744073709551616", b"1" + b"0" * 30)


@st.composite
def malformed_responses(
    draw: st.DrawFn, *, defects: tuple[str, ...] = RESPONSE_DEFECTS
) -> MalformedCase:
    """A response (to a GET) with one defect from ``defects`` (see
    :data:`RESPONSE_DEFECTS`). ``status_hint`` is what treadle reports for it."""
    defect = draw(st.sampled_from(defects))
    status = b"%d" % draw(st.sampled_from((200, 201, 404, 500)))
    version = b"HTTP/1.1"
    reason = b"OK"
    message = _Message(b"", draw(_fields()))
    hint = 400
    if defect == "status-code":
        status = draw(st.sampled_from((b"20", b"2000", b"2x0", b"099", b"-20", b"", b"0200")))
    elif defect == "version":
        version, _ = _version(draw)
        hint = 400  # a client has no 505 to answer with
    elif defect == "te-unknown":
        value = draw(st.sampled_from((b"gzip", b"deflate", b"br", b"x-custom")))
        _place(draw, message.fields, b"Transfer-Encoding: " + value)
        message.body = b"abc"
        hint = 501
    elif defect == "line-too-long":
        # The whole status line is limited, not only its reason: 1 to 64 bytes over.
        start = version + b" " + status + b" "
        reason = b"a" * (MAX_LINE - len(start) + draw(st.integers(1, 64)))
    elif defect == "reason-ctl":
        # RFC 9112 4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).
        reason = _insert(
            draw, draw(st.sampled_from((b"OK", b"Not Found"))), draw(st.sampled_from(_CTL))
        )
    else:
        hint = draw(_field_defect(message, defect))
    message.start = version + b" " + status + b" " + reason
    return MalformedCase(message.wire(), defect, hint)


# -- random corruption ----------------------------------------------------------------

_INSERTED = (b"\r", b"\n", b"\r\n", b"\x00", b" ", b"\t", b":", b";", b",", b"\x7f", b"\xff")
_FRAMING_LINES = (
    b"Content-Length: 0",
    b"Content-Length: 5",
    b"Content-Length: 1, 1",
    b"Content-Length: -1",
    b"Content-Length: +3",
    b"Content-Length:",
    b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: gzip",
    b"Transfer-Encoding: gzip, chunked",
    b"Transfer-Encoding: chunked, identity",
    b"Transfer-Encoding:",
    b"Host: other.test",
    b"Connection: close",
    b"Connection: keep-alive",
    b"Connection: upgrade",
    b"Upgrade: websocket",
    b"Expect: 100-continue",
    b"Proxy-Connection: close",
    b" folded",
    b"\tfolded",
    b"Bad Name: x",
    b"Name : x",
    b":",
)
_HUGE = (
    b"18446744073709551615",
    b"18446744073709551616",
    b"99999999999999999999999",
    b"9223372036854775807",
    b"ffffffffffffffff",
    b"10000000000000000",
    b"FFFFFFFFFFFFFFFFF",
    b"000000000000000000000000000001",
    b"4294967296",
    b"0",
)
_NUMBER = re.compile(rb"[0-9A-Fa-f]+")


@st.composite
def _mutate_once(draw: st.DrawFn, data: bytes) -> bytes:
    kind = draw(
        st.sampled_from(("flip", "insert", "delete", "truncate", "field", "huge", "duplicate"))
    )
    size = len(data)
    if kind == "flip" and size:
        at = draw(st.integers(0, size - 1))
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if kind == "insert":
        at = draw(st.integers(0, size))
        return data[:at] + draw(st.sampled_from(_INSERTED)) + data[at:]
    if kind == "delete" and size:
        at = draw(st.integers(0, size - 1))
        return data[:at] + data[at + draw(st.integers(1, 3)) :]
    if kind == "truncate" and size:
        return data[: draw(st.integers(0, size - 1))]
    if kind == "field":
        # A field line (often a framing one) at a line start, i.e. into a head or trailers.
        starts = [m.end() for m in re.finditer(rb"\r\n", data)]
        if starts:
            at = draw(st.sampled_from(starts))
            return data[:at] + draw(st.sampled_from(_FRAMING_LINES)) + b"\r\n" + data[at:]
    if kind == "huge":
        numbers = list(_NUMBER.finditer(data))
        if numbers:
            match = draw(st.sampled_from(numbers))
            return data[: match.start()] + draw(st.sampled_from(_HUGE)) + data[match.end() :]
    if kind == "duplicate":
        lines = [m for m in re.finditer(rb"[^\r\n]*\r\n", data) if b":" in m.group(0)]
        if lines:
            line = draw(st.sampled_from(lines))
            return data[: line.end()] + line.group(0) + data[line.end() :]
    return data + b"\r\n"


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with one to three random corruptions (bit flips, inserted CR/LF/NUL,
    deletions, truncation, framing fields, huge numbers, duplicated lines). The result
    may still be valid: use it to check that a parser never fails in any other way
    than refusing."""
    for _ in range(draw(st.integers(1, 3))):
        data = draw(_mutate_once(data))
    return data
