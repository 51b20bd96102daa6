"""Strict lexing of message heads for the h11 engine, to llhttp's strict rules.

h11 is lenient where llhttp (strict mode) is not, and the reverse; so that both engines
accept and refuse the same bytes, the h11 engine checks every line here first and hands
h11 a head in canonical form. Rules: CRLF line ends only (RFC 9112 2.2), no obs-fold
(RFC 9112 5.2), field names are tokens with no space before the colon (RFC 9112 5.1),
field values hold HTAB, SP, VCHAR and obs-text only (RFC 9110 5.5), known methods only.
"""

from __future__ import annotations

import re

from .._errors import RemoteProtocolError
from .._headers import check_coding_ows, check_field_sizes, check_reason
from .._limits import Limits

__all__ = ["HeadScanner", "StartLine", "check_field_line", "split_field_line"]

# The request methods llhttp knows for HTTP/1.x (PRI and RTSP's methods excluded).
_METHODS = frozenset(
    b"DELETE GET HEAD POST PUT CONNECT OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND "
    b"PROPPATCH SEARCH UNLOCK BIND REBIND UNBIND ACL REPORT MKACTIVITY CHECKOUT MERGE "
    b"M-SEARCH NOTIFY SUBSCRIBE UNSUBSCRIBE PATCH PURGE MKCALENDAR LINK UNLINK SOURCE "
    b"QUERY".split()
)
_VERSIONS = frozenset((b"0.9", b"1.0", b"1.1", b"2.0"))

_REQUEST_LINE = re.compile(rb"([A-Z][A-Z_\-]*) +([\x21-\x7e]+) +HTTP/([0-9]\.[0-9])")
_HTTP09_REQUEST_LINE = re.compile(rb"([A-Z][A-Z_\-]*) +([\x21-\x7e]+)")
_ORIGIN_OR_ABSOLUTE = re.compile(rb"/|\*|[A-Za-z][A-Za-z0-9+.\-]*://")
_STATUS_LINE = re.compile(rb"HTTP/([0-9]\.[0-9]) ([0-9]{3})(?: ([^\r\n]*))?")
_FIELD_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t \x21-\x7e\x80-\xff]*")
_TOKEN_RUN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]*")
_VALUE_RUN = re.compile(rb"[\t \x21-\x7e\x80-\xff]*")


class StartLine:
    """The parts of a request line or status line, as bytes."""

    __slots__ = ("canonical", "http_version", "method", "reason", "status_code", "target")

    def __init__(self) -> None:
        self.method = b""
        self.target = b""
        self.status_code = 0
        self.reason = b""
        self.http_version = b""
        self.canonical = b""


def _request_line(line: bytes) -> StartLine:
    match = _REQUEST_LINE.fullmatch(line)
    if match is not None:
        method, target, version = match.groups()
    else:
        # llhttp reads a line without a version as HTTP/0.9 and parses a head after it;
        # the core then answers 505, on both engines.
        match = _HTTP09_REQUEST_LINE.fullmatch(line)
        if match is None:
            raise RemoteProtocolError("malformed request line")
        (method, target), version = match.groups(), b"0.9"
    if method not in _METHODS:
        # 400, not 501: llhttp cannot tell an unknown method from a garbled line.
        raise RemoteProtocolError(f"unknown method {method!r}")
    if method != b"CONNECT" and _ORIGIN_OR_ABSOLUTE.match(target) is None:
        raise RemoteProtocolError("malformed request target")
    if version not in _VERSIONS:
        raise RemoteProtocolError("invalid HTTP version")
    start = StartLine()
    start.method, start.target, start.http_version = method, target, version
    start.canonical = b"%s %s HTTP/%s" % (method, target, version)
    return start


def _status_line(line: bytes) -> StartLine:
    match = _STATUS_LINE.fullmatch(line)
    if match is None:
        raise RemoteProtocolError("malformed status line")
    version, status, reason = match.groups()
    if version not in _VERSIONS:
        raise RemoteProtocolError("invalid HTTP version")
    start = StartLine()
    start.http_version = version
    start.status_code = int(status)
    start.reason = reason = reason or b""
    if reason:
        check_reason(reason)  # RFC 9112 4; llhttp lets control bytes through
    # h11 gets no reason: the check above is the one both engines apply.
    start.canonical = b"HTTP/%s %s" % (version, status)
    return start


def check_field_line(line: bytes) -> None:
    """Refuse a header or trailer line that llhttp's strict mode would refuse."""
    if _FIELD_LINE.fullmatch(line) is None:
        if line[:1] in (b" ", b"\t"):
            raise RemoteProtocolError("obsolete line folding in a header field")
        raise RemoteProtocolError("malformed header field")


def split_field_line(line: bytes) -> tuple[bytes, bytes]:
    """Name and value of a checked field line, the value without its OWS (RFC 9110 5.5)."""
    name, _, value = line.partition(b":")
    return name, value.strip(b" \t")


# Fields h11 would normalise (merging equal Content-Lengths, lower-casing and limiting
# transfer codings): the core judges them from the lexer's list, and h11 never sees them.
_WITHHELD_FROM_H11 = (b"content-length", b"transfer-encoding")
_OWS = (32, 9)  # SP, HTAB


_UINT64_MAX = 2**64 - 1


def _check_framing_field(lowered: bytes, value: bytes, fields: list[tuple[bytes, bytes]]) -> None:
    """llhttp's checks on a Content-Length or Transfer-Encoding line, made where llhttp
    makes them (at that line, in order), so that a head with several faults gets the
    status hint of the first one on both engines. The core checks these fields again."""
    seen = [name.lower() for name, _ in fields[:-1]]
    if lowered == b"transfer-encoding":
        if b"content-length" in seen:
            raise RemoteProtocolError("both Content-Length and Transfer-Encoding")
        return
    if b"content-length" in seen:
        raise RemoteProtocolError("repeated Content-Length")
    if b"transfer-encoding" in seen:
        raise RemoteProtocolError("both Content-Length and Transfer-Encoding")
    if not value.isdigit() or not value.isascii():
        raise RemoteProtocolError(f"invalid Content-Length {value!r}")
    if int(value) > _UINT64_MAX:
        raise RemoteProtocolError("Content-Length is too large", status_hint=413)


class HeadScanner:
    """Finds and checks a head in arriving bytes, one complete line at a time.

    Each line is checked once, so a head trickling in byte by byte costs linear time.
    The fields are collected as they were sent (order, case, repeats): h11 rewrites
    some, and the events must carry what llhttp reports, i.e. the wire's fields.
    """

    __slots__ = (
        "_after_colon",
        "_buffer",
        "_fields",
        "_h11_lines",
        "_is_request",
        "_limits",
        "_scanned",
        "_searched",
        "_start",
    )

    def __init__(self, limits: Limits, *, is_request: bool) -> None:
        self._limits = limits
        self._is_request = is_request
        self._buffer = bytearray()
        self._scanned = 0  # start of the line being received
        self._searched = 0  # bytes before this were searched for LF and checked
        self._after_colon = False  # whether the unfinished field line's colon was seen
        self._start: StartLine | None = None
        self._fields: list[tuple[bytes, bytes]] = []
        self._h11_lines: list[bytes] = []

    @property
    def pending(self) -> bool:
        return bool(self._buffer)

    def feed(self, data: bytes) -> tuple[StartLine, bytes, list[tuple[bytes, bytes]], bytes] | None:
        """Add bytes; once a whole head has arrived, return its start line, the head in
        canonical form for h11, its fields as sent, and the bytes after it."""
        buffer = self._buffer
        buffer += data
        if self._start is None and buffer and buffer[0] in (13, 10):
            # RFC 9112 2.2: empty lines before the start line are ignored; llhttp skips
            # any run of CR and LF there, even in strict mode, and so does this lexer.
            del buffer[: len(buffer) - len(buffer.lstrip(b"\r\n"))]
        limits = self._limits
        while True:
            end = buffer.find(b"\n", self._searched)
            if end < 0:
                self._check_unfinished(buffer)
                return None
            if end == 0 or buffer[end - 1] != 13:
                raise RemoteProtocolError("bare LF in the message head")
            line = bytes(buffer[self._scanned : end - 1])
            if b"\r" in line:
                raise RemoteProtocolError("bare CR in the message head")
            self._scanned = self._searched = end + 1
            self._after_colon = False
            if self._scanned > limits.max_head_size:
                raise RemoteProtocolError("message head is too large", status_hint=431)
            start = self._start
            if start is None:
                self._check_start_length(len(line))
                if self._is_request:
                    start = _request_line(line)
                    # What the llhttp engine can measure: the line with single spaces
                    # and a version (a line without one is refused anyway, with 505).
                    self._check_start_length(len(start.method) + len(start.target) + 10)
                else:
                    start = _status_line(line)
                self._start = start
                self._h11_lines = [start.canonical]
                self._fields = []
            elif line:
                check_field_line(line)
                if line[-1] in _OWS:
                    check_coding_ows(line.partition(b":")[0], line)
                field = split_field_line(line)
                if len(line) > limits.max_field_size:
                    check_field_sizes([field], limits)
                fields = self._fields
                fields.append(field)
                if len(fields) > limits.max_headers:
                    raise RemoteProtocolError("too many header fields", status_hint=431)
                lowered = field[0].lower()
                if lowered in _WITHHELD_FROM_H11:
                    _check_framing_field(lowered, field[1], fields)
                else:
                    self._h11_lines.append(line)
            else:
                self._h11_lines.append(b"\r\n")
                head = b"\r\n".join(self._h11_lines)
                fields = self._fields
                rest = bytes(buffer[self._scanned :])
                self._buffer = bytearray()
                self._scanned = self._searched = 0
                self._start = None
                self._fields = []
                self._h11_lines = []
                return start, head, fields, rest

    def _check_start_length(self, length: int) -> None:
        if length > self._limits.max_line_size:
            if self._is_request:
                raise RemoteProtocolError("request line is too long", status_hint=414)
            raise RemoteProtocolError("status line is too long")

    def _check_unfinished(self, buffer: bytearray) -> None:
        """Check what arrived of an unfinished line, once: llhttp refuses a bad byte
        as it comes, and re-scanning the whole partial line on every call would make a
        line trickling in byte by byte cost quadratic time."""
        if self._start is None:
            self._check_start_length(len(buffer) - self._scanned - buffer.endswith(b"\r"))
        if len(buffer) > self._limits.max_head_size:
            raise RemoteProtocolError("message head is too large", status_hint=431)
        stop = len(buffer) - 1 if buffer.endswith(b"\r") else len(buffer)  # CR may be CRLF
        new = bytes(buffer[self._searched : stop])
        self._searched = stop
        if b"\r" in new:
            raise RemoteProtocolError("bare CR in the message head")
        if self._start is not None and new and not self._field_prefix_ok(new):
            check_field_line(bytes(buffer[self._scanned : stop]))  # raises with the cause

    def _field_prefix_ok(self, new: bytes) -> bool:
        """Whether ``new``, continuing an unfinished field line, can still be valid."""
        if self._after_colon:
            return _VALUE_RUN.fullmatch(new) is not None
        colon = new.find(b":")
        if colon < 0:
            return _TOKEN_RUN.fullmatch(new) is not None
        self._after_colon = True
        return (
            _TOKEN_RUN.fullmatch(new, 0, colon) is not None
            and _VALUE_RUN.fullmatch(new, colon + 1) is not None
        )
