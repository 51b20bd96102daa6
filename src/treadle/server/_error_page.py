"""The fixed reply to a request the server refuses before any handler runs.

Never echoes a byte of the request (no reflected content, no log injection into a
browser): the body is the status line's text, nothing else.
"""

from __future__ import annotations

from contextlib import suppress
from functools import lru_cache
from http import HTTPStatus

from ..protocol import Data, EndOfMessage, LocalProtocolError, Response, ServerConnection

__all__ = ["error_page", "error_response"]


@lru_cache(maxsize=64)
def error_page(status: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of the error reply for ``status`` (``Connection: close``)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body = f"{status} {phrase}\n".encode("ascii")
    headers = [
        (b"Content-Type", b"text/plain; charset=utf-8"),
        (b"Content-Length", str(len(body)).encode("ascii")),
        (b"Connection", b"close"),
    ]
    return headers, body


def error_response(
    proto: ServerConnection, status: int, *, head_only: bool = False, details: str | None = None
) -> bytes:
    """The whole reply through the core (which may refuse with ``LocalProtocolError``).

    ``details`` (a traceback, in debug mode only) follows the status line in the body.
    """
    headers, body = error_page(status)
    if details is not None:
        body += b"\n" + details.encode("utf-8", "replace")
        headers = [*headers[:1], (b"Content-Length", b"%d" % len(body)), *headers[2:]]
    out = proto.send(Response(status, list(headers)))
    if not head_only:
        # LocalProtocolError: the request was a HEAD, the head alone answers it.
        with suppress(LocalProtocolError):
            out += proto.send(Data(body))
    return out + proto.send(EndOfMessage())
