"""Body decoders for the h11 engine, as strict as llhttp (RFC 9112 sections 6 and 7).

h11 accepts chunk lines llhttp refuses (spaces after the size, empty extensions); the
engine therefore parses only heads with h11 and decodes bodies here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .._errors import RemoteProtocolError
from .._events import Headers
from .._headers import check_field_sizes, check_trailer_name
from .._limits import Limits
from ._lexer import check_field_line, split_field_line

__all__ = ["ChunkedDecoder", "Decoder", "LengthDecoder", "UntilCloseDecoder"]

_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
# llhttp's grammar, which is laxer than RFC 9112 7.1.1 in one harmless way: an
# extension name may be empty (``1;=0``, ``1;;a``), though a line may not end in ``;``.
# Extensions are ignored either way; what matters is that both engines agree.
_VALUE = rb"(?:" + _TOKEN + rb"|" + _QUOTED + rb")?"
_EXTENSION = rb";(?:" + _TOKEN + rb"(?:=" + _VALUE + rb")?|=" + _VALUE + rb")?"
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]+)(?:" + _EXTENSION + rb")*")
_MAX_SIZE_DIGITS = 16  # llhttp keeps the size in 64 bits

DataCallback = Callable[[bytes], None]


class Decoder:
    """Consumes body bytes: ``feed`` returns the rest once the body is complete."""

    trailers: Headers

    def __init__(self) -> None:
        self.trailers = []

    def feed(self, data: bytes, on_data: DataCallback) -> bytes | None:
        raise NotImplementedError


class LengthDecoder(Decoder):
    def __init__(self, length: int) -> None:
        super().__init__()
        self._remaining = length

    def feed(self, data: bytes, on_data: DataCallback) -> bytes | None:
        remaining = self._remaining
        if len(data) < remaining:
            self._remaining = remaining - len(data)
            on_data(data)
            return None
        if remaining:
            on_data(data[:remaining])
        self._remaining = 0
        return data[remaining:]


class UntilCloseDecoder(Decoder):
    def feed(self, data: bytes, on_data: DataCallback) -> bytes | None:
        on_data(data)
        return None


class ChunkedDecoder(Decoder):
    """RFC 9112 7.1: chunk-size [extensions] CRLF data CRLF ... last-chunk trailers CRLF."""

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self._limits = limits
        self._buffer = b""
        self._remaining = 0
        self._state = "size"  # size | data | data-end | trailers
        self._trailer_bytes = 0

    def feed(self, data: bytes, on_data: DataCallback) -> bytes | None:
        buffer = self._buffer + data if self._buffer else data
        self._buffer = b""
        while buffer:
            state = self._state
            if state == "data":
                remaining = self._remaining
                if len(buffer) <= remaining:
                    self._remaining = remaining - len(buffer)
                    on_data(buffer)
                    if not self._remaining:
                        self._state = "data-end"
                    return None
                on_data(buffer[:remaining])
                buffer = buffer[remaining:]
                self._remaining = 0
                self._state = "data-end"
                continue
            if state == "data-end":
                if len(buffer) < 2:
                    if buffer != b"\r":
                        raise RemoteProtocolError("chunk data is longer than its size")
                    self._buffer = buffer
                    return None
                if buffer[:2] != b"\r\n":
                    raise RemoteProtocolError("chunk data is longer than its size")
                buffer = buffer[2:]
                self._state = "size"
                continue
            line, buffer = self._line(buffer)
            if line is None:
                return None
            if state == "size":
                self._chunk_size(line)
            elif line:
                self._trailer(line)
            else:
                return buffer
        return None

    def _line(self, buffer: bytes) -> tuple[bytes | None, bytes]:
        end = buffer.find(b"\n")
        if end < 0:
            if len(buffer) > self._limits.max_line_size:
                raise RemoteProtocolError("chunk line is too long")
            if b"\r" in buffer[:-1]:
                raise RemoteProtocolError("bare CR in chunked framing")
            self._buffer = buffer
            return None, b""
        if end == 0 or buffer[end - 1] != 13:
            raise RemoteProtocolError("bare LF in chunked framing")
        line = buffer[: end - 1]
        if b"\r" in line:
            raise RemoteProtocolError("bare CR in chunked framing")
        if len(line) > self._limits.max_line_size:
            raise RemoteProtocolError("chunk line is too long")
        return line, buffer[end + 1 :]

    def _chunk_size(self, line: bytes) -> None:
        match = _CHUNK_LINE.fullmatch(line)
        if match is None or line.endswith(b";"):
            raise RemoteProtocolError("malformed chunk size line")
        digits = match.group(1).lstrip(b"0")
        if len(digits) > _MAX_SIZE_DIGITS:
            raise RemoteProtocolError("chunk size overflow")
        size = int(digits or b"0", 16)
        if size:
            self._remaining = size
            self._state = "data"
        else:
            self._state = "trailers"

    def _trailer(self, line: bytes) -> None:
        check_field_line(line)
        limits = self._limits
        field = split_field_line(line)
        check_trailer_name(field[0])
        self._trailer_bytes += len(line) + 2
        if self._trailer_bytes > limits.max_head_size:
            raise RemoteProtocolError("trailer section is too large", status_hint=431)
        if len(line) > limits.max_field_size:
            check_field_sizes([field], limits)
        self.trailers.append(field)
        if len(self.trailers) > limits.max_headers:
            raise RemoteProtocolError("too many trailer fields", status_hint=431)
