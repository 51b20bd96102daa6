"""Serialising outgoing heads and body framing, refusing header injection.

Nothing reaches the wire with CR, LF or NUL smuggled into a method, target, reason,
header name or value: such input raises ``LocalProtocolError`` before any byte is made.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from ._errors import LocalProtocolError
from ._events import Headers

__all__ = [
    "LAST_CHUNK",
    "chunk",
    "request_head",
    "response_head",
    "trailer_block",
]

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TARGET = re.compile(rb"[\x21-\x7e]+")
# Field values: HTAB, SP, visible ASCII and obs-text; no other control bytes.
_BAD_VALUE_BYTE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_BAD_REASON_BYTE = _BAD_VALUE_BYTE

# Validated field lines, keyed by the (name, value) pair: most responses repeat most of
# their fields (Content-Type, Server, Date within a second, small Content-Lengths), so
# a dictionary hit replaces the checks and the concatenation. Bounded: it is emptied
# when full, so a peer-influenced value cannot grow it.
_field_lines: dict[tuple[bytes, bytes], bytes] = {}
_FIELD_LINES_MAX = 4096

_REASONS = {status.value: status.phrase.encode("ascii") for status in HTTPStatus}
_STATUS_LINES = {code: b"HTTP/1.1 %d %s\r\n" % (code, reason) for code, reason in _REASONS.items()}

LAST_CHUNK = b"0\r\n\r\n"


def _field_line(field: tuple[bytes, bytes]) -> bytes:
    """``name: value CRLF`` for one field, refusing what could inject a line."""
    name, value = field
    if _TOKEN.fullmatch(name) is None:
        raise LocalProtocolError(f"invalid header name {name!r}")
    if _BAD_VALUE_BYTE.search(value) is not None:
        raise LocalProtocolError(f"invalid character in the value of header {name!r}")
    line = name + b": " + value + b"\r\n"
    if len(_field_lines) >= _FIELD_LINES_MAX:
        _field_lines.clear()
    _field_lines[field] = line
    return line


def _join(start_line: bytes, headers: Headers) -> bytes:
    """Serialise a head (``start_line`` ends in CRLF), refusing CR, LF, NUL and other
    controls in any field."""
    cached = _field_lines.get
    lines = [start_line]
    for field in headers:
        lines.append(cached(field) or _field_line(field))
    lines.append(b"\r\n")
    return b"".join(lines)


def request_head(method: bytes, target: bytes, http_version: bytes, headers: Headers) -> bytes:
    """The request line and fields (RFC 9112 section 3)."""
    if _TOKEN.fullmatch(method) is None:
        raise LocalProtocolError(f"invalid method {method!r}")
    if _TARGET.fullmatch(target) is None:
        raise LocalProtocolError(f"invalid request target {target!r}")
    return _join(b"%s %s HTTP/%s\r\n" % (method, target, http_version), headers)


def response_head(status_code: int, reason: bytes, headers: Headers) -> bytes:
    """The status line and fields (RFC 9112 section 4); an empty reason gets the standard one."""
    if reason:
        if _BAD_REASON_BYTE.search(reason) is not None:
            raise LocalProtocolError(f"invalid reason phrase {reason!r}")
        start_line = b"HTTP/1.1 %d %s\r\n" % (status_code, reason)
    else:
        start_line = _STATUS_LINES.get(status_code) or b"HTTP/1.1 %d \r\n" % status_code
    return _join(start_line, headers)


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (RFC 9112 section 7.1)."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def trailer_block(trailers: Headers) -> bytes:
    """The last chunk and the trailer section (RFC 9112 section 7.1.2)."""
    if not trailers:
        return LAST_CHUNK
    return _join(b"0\r\n", trailers)
