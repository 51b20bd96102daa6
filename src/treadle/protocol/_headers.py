"""Reading the framing-relevant fields of a received head (RFC 9112 sections 6 and 9).

One pass over the header list collects what the core's policy needs; the policy itself
(what to reject, how the body is delimited) lives in ``_policy``.
"""

from __future__ import annotations

from ._errors import RemoteProtocolError
from ._events import Headers
from ._limits import Limits

__all__ = ["FieldSummary", "summarize"]


class FieldSummary:
    """What one head says about framing, persistence, upgrade and expectations."""

    __slots__ = (
        "connection_tokens",
        "content_length",
        "content_length_count",
        "expect_continue",
        "host_count",
        "transfer_encoding",
        "upgrade",
    )

    def __init__(self) -> None:
        self.content_length: int | None = None
        self.content_length_count = 0
        self.transfer_encoding: list[bytes] | None = None
        self.host_count = 0
        self.connection_tokens: frozenset[bytes] = frozenset()
        self.upgrade = False
        self.expect_continue = False


def _parse_content_length(value: bytes) -> int:
    # RFC 9110 8.6: Content-Length = 1*DIGIT. No sign, no spaces, no lists.
    if not value.isdigit() or not value.isascii():
        raise RemoteProtocolError(f"invalid Content-Length {value!r}")
    if len(value) > 18:
        raise RemoteProtocolError("Content-Length is too large", status_hint=413)
    return int(value)


def _tokens(value: bytes) -> list[bytes]:
    return [item.strip(b" \t").lower() for item in value.split(b",") if item.strip(b" \t")]


def summarize(headers: Headers, limits: Limits) -> FieldSummary:
    """Collect the fields the policy looks at, rejecting malformed framing fields and
    heads over the field limits."""
    if len(headers) > limits.max_headers:
        raise RemoteProtocolError("too many header fields", status_hint=431)
    max_field_size = limits.max_field_size
    summary = FieldSummary()
    connection: list[bytes] = []
    for name, value in headers:
        if len(value) > max_field_size or len(name) > max_field_size:
            raise RemoteProtocolError("header field is too large", status_hint=431)
        lowered = name.lower()
        if lowered == b"host":
            summary.host_count += 1
        elif lowered == b"content-length":
            summary.content_length_count += 1
            summary.content_length = _parse_content_length(value)
        elif lowered == b"transfer-encoding":
            if summary.transfer_encoding is None:
                summary.transfer_encoding = []
            summary.transfer_encoding.extend(_tokens(value))
        elif lowered == b"connection":
            connection.extend(_tokens(value))
        elif lowered == b"upgrade":
            summary.upgrade = True
        elif lowered == b"expect":
            summary.expect_continue = value.strip(b" \t").lower() == b"100-continue"
    if connection:
        summary.connection_tokens = frozenset(connection)
    return summary
