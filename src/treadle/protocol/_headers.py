"""Reading the framing-relevant fields of a received head (RFC 9112 sections 6 and 9).

One pass over the header list collects what the core's policy needs; the policy itself
(what to reject, how the body is delimited) lives in the connection classes. This runs
for every message, so fields that do not matter cost one dictionary look-up.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from ._errors import RemoteProtocolError
from ._events import Headers
from ._limits import Limits

__all__ = [
    "FieldSummary",
    "check_coding_ows",
    "check_reason",
    "check_trailer_name",
    "scan_fields",
    "summarize",
]

_HOST, _CONTENT_LENGTH, _TRANSFER_ENCODING, _CONNECTION, _UPGRADE, _EXPECT = range(6)
_KINDS = {
    b"host": _HOST,
    b"content-length": _CONTENT_LENGTH,
    b"transfer-encoding": _TRANSFER_ENCODING,
    b"connection": _CONNECTION,
    # Not standard, but llhttp acts on it exactly as on Connection (close, keep-alive,
    # upgrade); the core must read persistence and switches the way the parser does.
    b"proxy-connection": _CONNECTION,
    b"upgrade": _UPGRADE,
    b"expect": _EXPECT,
}
_KINDS.update({name.title(): kind for name, kind in _KINDS.items()})
_KINDS[b"Content-length"] = _CONTENT_LENGTH
_NAME_LENGTHS = frozenset(len(name) for name in _KINDS)  # skips most fields cheaply
_EMPTY: frozenset[bytes] = frozenset()


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
        self.connection_tokens = _EMPTY
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


def _codings(value: bytes) -> list[bytes]:
    # RFC 9110 5.6.1 lets list recipients skip empty elements, but llhttp does not:
    # it refuses "chunked," in a request and reads a response so framed to EOF while
    # the core would decode it as chunked. A framing field that parsers read two ways
    # is a smuggling vector, so it is refused on both engines.
    codings = [item.strip(b" \t").lower() for item in value.split(b",")]
    if not all(codings):
        raise RemoteProtocolError(f"empty transfer coding in Transfer-Encoding {value!r}")
    return codings


# RFC 9110 6.5.1: fields needed before the content cannot come after it. llhttp refuses
# Content-Length there, Transfer-Encoding in requests, and acts on Connection: close
# behind the core's back; all three are refused on every engine.
_NOT_IN_TRAILERS = frozenset((b"content-length", b"transfer-encoding", b"connection"))


def check_trailer_name(name: bytes) -> None:
    """Refuse a trailer field that would change framing or persistence after the fact."""
    if len(name) in (10, 14, 17) and name.lower() in _NOT_IN_TRAILERS:
        raise RemoteProtocolError(f"{name.decode('latin-1')} is not allowed in trailers")


def check_coding_ows(name: bytes, value: bytes) -> None:
    """Refuse HTAB in the trailing whitespace of a raw Transfer-Encoding value.

    llhttp reads ``chunked<HTAB>`` as an unknown coding: it refuses such a request but
    reads such a response until EOF while the core decodes it as chunked. Call only for
    a value that ends in whitespace (the rare case).
    """
    if (
        len(name) == 17
        and name.lower() == b"transfer-encoding"
        and b"\t" in value[len(value.rstrip(b" \t")) :]
    ):
        raise RemoteProtocolError("HTAB after a transfer coding")


FieldScan = tuple[int, int, "int | None", "list[bytes] | None", frozenset[bytes], bool, bool]
"""``scan_fields``' answer: host count, Content-Length count, Content-Length,
Transfer-Encoding codings, Connection tokens, Upgrade present, Expect: 100-continue."""


def scan_fields(headers: Headers, limits: Limits) -> FieldScan:
    """``summarize`` as a plain tuple: no object per head (the server's hot path)."""
    if len(headers) > limits.max_headers:
        raise RemoteProtocolError("too many header fields", status_hint=431)
    host_count = 0
    length_count = 0
    length: int | None = None
    codings: list[bytes] | None = None
    connection: list[bytes] | None = None
    upgrade = False
    expect_continue = False
    kinds = _KINDS
    lengths = _NAME_LENGTHS
    for name, value in headers:
        kind = kinds.get(name)  # the usual spellings hit at once
        if kind is None:
            if len(name) not in lengths:
                continue
            kind = kinds.get(name.lower())
            if kind is None:
                continue
        if kind == _HOST:
            host_count += 1
        elif kind == _CONTENT_LENGTH:
            length_count += 1
            length = _parse_content_length(value)
        elif kind == _TRANSFER_ENCODING:
            if codings is None:
                codings = []
            codings.extend(_codings(value))
        elif kind == _CONNECTION:
            if connection is None:
                connection = []
            connection.extend(_tokens(value))
        elif kind == _UPGRADE:
            upgrade = True
        else:
            expect_continue = value.strip(b" \t").lower() == b"100-continue"
    if codings is not None and codings.count(b"chunked") > 1:
        # RFC 9112 6.1: chunked is applied once; llhttp refuses a repeat with 400.
        raise RemoteProtocolError("chunked transfer coding applied more than once")
    tokens = frozenset(connection) if connection else _EMPTY
    return host_count, length_count, length, codings, tokens, upgrade, expect_continue


def summarize(headers: Headers, limits: Limits) -> FieldSummary:
    """Collect the fields the policy looks at, rejecting malformed framing fields.

    The field count is checked here; field sizes by the engines (``check_field_sizes``),
    which know when a field could be too large at all.
    """
    summary = FieldSummary()
    (
        summary.host_count,
        summary.content_length_count,
        summary.content_length,
        summary.transfer_encoding,
        summary.connection_tokens,
        summary.upgrade,
        summary.expect_continue,
    ) = scan_fields(headers, limits)
    return summary


def persistent(http_version: bytes, connection_tokens: frozenset[bytes]) -> bool:
    """RFC 9112 9.3: HTTP/1.1 persists unless told to close; HTTP/1.0 only if asked."""
    if b"close" in connection_tokens:
        return False
    return http_version == b"1.1" or b"keep-alive" in connection_tokens


# The reasons servers send: accepted without a scan (bytes.isalpha covers one word).
_COMMON_REASONS = frozenset(status.phrase.encode("ascii") for status in HTTPStatus)
# RFC 9112 4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).
_BAD_REASON_BYTE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def check_reason(reason: bytes) -> None:
    """Refuse control bytes in a received reason phrase (RFC 9112 section 4).

    llhttp lets them through, and h11 would refuse only some; both engines call this so
    they agree. The usual reasons skip the scan.
    """
    if (
        not reason.isalpha()
        and reason not in _COMMON_REASONS
        and _BAD_REASON_BYTE.search(reason) is not None
    ):
        raise RemoteProtocolError(f"control byte in the reason phrase {reason!r}")


def check_field_sizes(fields: Headers, limits: Limits) -> None:
    """Refuse a field whose name or value exceeds ``Limits.max_field_size`` (431)."""
    largest = limits.max_field_size
    for name, value in fields:
        if len(value) > largest or len(name) > largest:
            raise RemoteProtocolError("header field is too large", status_hint=431)
