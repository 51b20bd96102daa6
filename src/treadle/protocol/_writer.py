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
_BAD_HEAD_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_valid_names: set[bytes] = set()
_VALID_NAMES_MAX = 1024

_REASONS = {status.value: status.phrase.encode("ascii") for status in HTTPStatus}
_STATUS_LINES = {code: b"HTTP/1.1 %d %s" % (code, reason) for code, reason in _REASONS.items()}

LAST_CHUNK = b"0\r\n\r\n"


def _check_names(headers: Headers) -> None:
    valid = _valid_names
    for name, _ in headers:
        if name not in valid:
            if _TOKEN.fullmatch(name) is None:
                raise LocalProtocolError(f"invalid header name {name!r}")
            if len(valid) < _VALID_NAMES_MAX:
                valid.add(name)


def _find_bad_value(headers: Headers) -> LocalProtocolError:
    for name, value in headers:
        if _BAD_VALUE_BYTE.search(value) is not None:
            return LocalProtocolError(f"invalid character in the value of header {name!r}")
    return LocalProtocolError("invalid character in the message head")  # pragma: no cover


def _join(start_line: bytes, headers: Headers) -> bytes:
    """Serialise a head, refusing CR, LF, NUL and other controls in any field.

    Rather than scanning every value, the finished head is scanned once: it must hold
    exactly one CRLF per line and no other control byte (HTAB aside).
    """
    _check_names(headers)
    lines = [start_line]
    lines.extend([name + b": " + value for name, value in headers])
    lines.append(b"\r\n")
    head = b"\r\n".join(lines)
    line_ends = len(headers) + 2
    if (
        head.count(b"\n") != line_ends
        or head.count(b"\r") != line_ends
        or _BAD_HEAD_BYTE.search(head) is not None
    ):
        raise _find_bad_value(headers)
    return head


def request_head(method: bytes, target: bytes, http_version: bytes, headers: Headers) -> bytes:
    """The request line and fields (RFC 9112 section 3)."""
    if _TOKEN.fullmatch(method) is None:
        raise LocalProtocolError(f"invalid method {method!r}")
    if _TARGET.fullmatch(target) is None:
        raise LocalProtocolError(f"invalid request target {target!r}")
    return _join(b"%s %s HTTP/%s" % (method, target, http_version), headers)


def response_head(status_code: int, reason: bytes, headers: Headers) -> bytes:
    """The status line and fields (RFC 9112 section 4); an empty reason gets the standard one."""
    if reason:
        if _BAD_REASON_BYTE.search(reason) is not None:
            raise LocalProtocolError(f"invalid reason phrase {reason!r}")
        start_line = b"HTTP/1.1 %d %s" % (status_code, reason)
    else:
        start_line = _STATUS_LINES.get(status_code) or b"HTTP/1.1 %d " % status_code
    return _join(start_line, headers)


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (RFC 9112 section 7.1)."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def trailer_block(trailers: Headers) -> bytes:
    """The last chunk and the trailer section (RFC 9112 section 7.1.2)."""
    if not trailers:
        return LAST_CHUNK
    return _join(b"0", trailers)
