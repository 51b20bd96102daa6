"""The seam between the core and its parsing engines.

An engine turns bytes into calls on a sink and owns nothing but syntax and body framing;
the core (the sink) owns policy. Both engines call the sink in exactly the same order:
one head, zero or more ``on_data``, one ``on_message_complete``.
"""

from __future__ import annotations

from typing import Protocol

from .._events import Headers
from .._framing import Framing

__all__ = ["RequestEngine", "RequestSink", "ResponseEngine", "ResponseSink"]


class _BodySink(Protocol):
    def on_data(self, data: bytes) -> None: ...

    def on_message_complete(self, trailers: Headers) -> bool:
        """The message ended; return True when parsing must stop (protocol switch)."""
        ...


class RequestSink(_BodySink, Protocol):
    def on_request_head(
        self, method: bytes, target: bytes, http_version: bytes, headers: Headers
    ) -> tuple[Framing, int]:
        """Apply policy to a head; return how its body is delimited (and its length)."""
        ...


class ResponseSink(_BodySink, Protocol):
    def on_response_head(
        self, status_code: int, reason: bytes, http_version: bytes, headers: Headers
    ) -> tuple[Framing, int]:
        """Apply policy to a head; return how its body is delimited (and its length)."""
        ...


class _Engine(Protocol):
    def feed(self, data: bytes) -> bytes | None:
        """Parse ``data``; return the unparsed rest if parsing stopped for a switch."""
        ...

    @property
    def in_message(self) -> bool:
        """Whether bytes of an unfinished message have been received."""
        ...


class RequestEngine(_Engine, Protocol):
    """Parses requests (the server side)."""


class ResponseEngine(_Engine, Protocol):
    """Parses responses (the client side): told which request each answers."""

    def expect_response(self, method: bytes, proposes_upgrade: bool) -> None: ...
