"""How a message body is delimited (RFC 9112 section 6.3), and the outgoing body writer."""

from __future__ import annotations

from enum import Enum

from ._errors import LocalProtocolError
from ._events import Headers
from ._writer import chunk, trailer_block

__all__ = ["BodyWriter", "Framing", "outgoing_framing_fields"]


class Framing(Enum):
    NONE = "none"
    LENGTH = "content-length"
    CHUNKED = "chunked"
    UNTIL_CLOSE = "until close"


_FRAMING_FIELDS = {b"content-length": 0, b"transfer-encoding": 1, b"connection": 2}
_FRAMING_FIELDS.update({name.title(): kind for name, kind in _FRAMING_FIELDS.items()})
_FRAMING_NAME_LENGTHS = frozenset(len(name) for name in _FRAMING_FIELDS)
_NO_TOKENS: frozenset[bytes] = frozenset()


def outgoing_framing_fields(headers: Headers) -> tuple[int | None, bool, frozenset[bytes]]:
    """Content-Length, whether chunked, and Connection tokens of a head we are sending."""
    length: int | None = None
    chunked = False
    connection = _NO_TOKENS
    fields = _FRAMING_FIELDS
    lengths = _FRAMING_NAME_LENGTHS
    for name, value in headers:
        kind = fields.get(name)  # the usual spellings hit at once
        if kind is None:
            if len(name) not in lengths:
                continue
            kind = fields.get(name.lower())
            if kind is None:
                continue
        if kind == 0:
            if length is not None or not value.isdigit():
                raise LocalProtocolError(f"invalid or repeated Content-Length {value!r}")
            length = int(value)
        elif kind == 1:
            if value.strip().lower() != b"chunked":
                raise LocalProtocolError("only Transfer-Encoding: chunked can be sent")
            chunked = True
        else:
            connection = connection | {token.strip().lower() for token in value.split(b",")}
    if chunked and length is not None:
        raise LocalProtocolError("Content-Length and Transfer-Encoding cannot both be sent")
    return length, chunked, connection


class BodyWriter:
    """Frames the body of the message we are sending and checks it fits its framing."""

    __slots__ = ("framing", "remaining")

    def __init__(self, framing: Framing, length: int = 0) -> None:
        self.framing = framing
        self.remaining = length

    def data(self, data: bytes) -> bytes:
        framing = self.framing
        if framing is Framing.CHUNKED:
            return chunk(data) if data else b""
        if framing is Framing.LENGTH:
            if len(data) > self.remaining:
                raise LocalProtocolError(
                    f"body is longer than its Content-Length ({self.remaining} bytes left)"
                )
            self.remaining -= len(data)
            return data
        if framing is Framing.NONE:
            if data:
                raise LocalProtocolError("this message cannot have a body")
            return b""
        return data

    def external(self, count: int) -> None:
        """Account for ``count`` body bytes sent around this writer (see
        ``Connection.body_sent_externally``): only framing that sends bytes as-is."""
        if count < 0:
            raise ValueError(f"negative byte count {count}")
        framing = self.framing
        if framing is Framing.LENGTH:
            if count > self.remaining:
                raise LocalProtocolError(
                    f"{count} body bytes exceed the Content-Length ({self.remaining} bytes left)"
                )
            self.remaining -= count
        elif framing is Framing.CHUNKED:
            raise LocalProtocolError("a chunked body needs chunk framing: send it as Data")
        elif framing is Framing.NONE and count:
            raise LocalProtocolError("this message cannot have a body")

    def end(self, trailers: Headers) -> bytes:
        framing = self.framing
        if framing is Framing.CHUNKED:
            return trailer_block(trailers)
        if trailers:
            raise LocalProtocolError("trailers need Transfer-Encoding: chunked")
        if framing is Framing.LENGTH and self.remaining:
            raise LocalProtocolError(
                f"body is shorter than its Content-Length ({self.remaining} bytes missing)"
            )
        return b""
