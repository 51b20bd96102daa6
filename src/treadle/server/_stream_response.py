"""``StreamResponse``: a response whose body the handler writes piece by piece.

A response builds its head from ``status``, ``reason`` and ``headers`` (a
``CIMultiDict[str]``) and hands it, as ``bytes`` pairs, to the request's
``ResponseWriter``; the protocol core frames the body from the head (Content-Length,
else chunked for HTTP/1.1, else until close) and refuses header injection.

``Date``, ``Server`` and the default ``Content-Type`` are added to the wire head
without being stored in ``headers``: nothing is inserted into the multidict per request
(``Response``, in ``_response.py``, relies on this for its one-write fast path).
"""

from __future__ import annotations

import enum
import math
import warnings
from collections.abc import MutableMapping
from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict

from ..message import ContentEncoder, parse_mimetype
from ._http_exception import LooseHeaders, check_header
from ._http_helpers import (
    SERVER_SOFTWARE,
    ETag,
    HttpVersion11,
    accept_encoding_items,
    format_http_date,
    http_date_now,
    parse_etag,
    parse_http_date,
    quote_etag,
)
from ._interfaces import RawHeaders, ResponseWriter
from ._response_cookies import CookieMixin
from ._state_mapping import LazyStateMapping

if TYPE_CHECKING:
    from http.cookies import SimpleCookie

    from ._request import BaseRequest

__all__ = ["ContentCoding", "StreamResponse"]

_REASONS: Final = {status.value: status.phrase for status in HTTPStatus}
_SERVER_FIELD: Final = (b"Server", SERVER_SOFTWARE.encode("ascii"))
_DEFAULT_TYPE: Final = "application/octet-stream"
_CONTENT_TYPE: Final = "Content-Type"
_CONTENT_LENGTH: Final = "Content-Length"
_TRANSFER_ENCODING: Final = "Transfer-Encoding"
_CONTENT_ENCODING: Final = "Content-Encoding"

_HAS_TYPE: Final = 1
_HAS_DATE: Final = 2
_HAS_SERVER: Final = 4
_HAS_CONNECTION: Final = 8
_HAS_LENGTH: Final = 16
_WIRE_FLAGS: Final = {
    "content-length": _HAS_LENGTH,
    "content-type": _HAS_TYPE,
    "date": _HAS_DATE,
    "server": _HAS_SERVER,
    "connection": _HAS_CONNECTION,
}
_WIRE_FLAGS.update({name.title(): bit for name, bit in list(_WIRE_FLAGS.items())})
_WIRE_FLAG_LENGTHS: Final = frozenset(len(name) for name in _WIRE_FLAGS)

# Encoded header fields and their _WIRE_FLAGS bit, keyed by the ``(name, value)`` str
# pair: most responses repeat most of their fields, and a hit on the encoded pair also
# makes the core's own cache of validated field lines hit by identity. Bounded (emptied
# when full), since a handler may put request-derived values in headers.
_encoded_fields: dict[tuple[str, str], tuple[tuple[bytes, bytes], int]] = {}
_ENCODED_FIELDS_MAX = 1024
# ``Content-Length`` fields for small bodies, made once.
_LENGTH_FIELDS: Final = tuple((b"Content-Length", b"%d" % size) for size in range(4096))


def _encode_field(item: tuple[str, str]) -> tuple[tuple[bytes, bytes], int]:
    name, value = item
    bit = _WIRE_FLAGS.get(name)
    if bit is None:
        bit = _WIRE_FLAGS.get(name.lower(), 0) if len(name) in _WIRE_FLAG_LENGTHS else 0
    encoded = ((name.encode("utf-8"), value.encode("utf-8")), bit)
    if len(_encoded_fields) >= _ENCODED_FIELDS_MAX:
        _encoded_fields.clear()
    _encoded_fields[item] = encoded
    return encoded


_date_second: str = ""
_date_field: tuple[bytes, bytes] = (b"Date", b"")


def _date_header() -> tuple[bytes, bytes]:
    """The ``Date`` field for now, re-encoded only when the second changes."""
    global _date_second, _date_field
    now = http_date_now()
    if now is not _date_second:
        _date_second = now
        _date_field = (b"Date", now.encode("ascii"))
    return _date_field


class ContentCoding(enum.Enum):
    """Codings ``enable_compression`` can apply (RFC 9110 8.4.1)."""

    deflate = "deflate"
    gzip = "gzip"
    identity = "identity"


def _choose_coding(accept_encoding: str) -> ContentCoding | None:
    """The coding to use for ``Accept-Encoding`` (RFC 9110 12.5.3): gzip or deflate,
    whichever has the higher q-value (gzip on a tie), none if both are refused."""
    if not accept_encoding:
        return None
    weights: dict[str, float] = {}
    for name, quality in accept_encoding_items(accept_encoding):
        weights.setdefault(name, quality)
    star = weights.get("*", 0.0)
    gzip = weights.get("gzip", star)
    deflate = weights.get("deflate", star)
    if gzip <= 0 and deflate <= 0:
        return None
    return ContentCoding.gzip if gzip >= deflate else ContentCoding.deflate


def _must_be_empty_body(method: str, status: int) -> bool:
    """RFC 9110 6.4.1: no body for HEAD, 1xx, 204, 304 and a 2xx answer to CONNECT."""
    return (
        method == "HEAD"
        or status in (204, 304)
        or status < 200
        or (method == "CONNECT" and 200 <= status < 300)
    )


def _remove_length(method: str, status: int) -> bool:
    """Whether Content-Length must go too (HEAD keeps the length of the body it omits)."""
    return status in (204, 304) or status < 200 or (method == "CONNECT" and 200 <= status < 300)


class StreamResponse(LazyStateMapping, CookieMixin, MutableMapping[str, Any]):
    """A response whose body is written piece by piece after ``await prepare(request)``."""

    # Defaults live on the class: a response sets only what differs, which keeps the
    # constructor (run for every request) short.
    _cookies: SimpleCookie | None = None
    _req: BaseRequest | None = None
    _writer: ResponseWriter | None = None
    _eof_sent = False
    _must_be_empty_body = False
    _keep_alive: bool | None = None
    _chunked = False
    _compression = False
    _compression_force: ContentCoding | None = None
    _compression_strategy: int | None = None
    _encoder: ContentEncoder | None = None
    _body_length = 0
    _state: dict[str, Any] | None = None

    def __init__(
        self,
        *,
        status: int = 200,
        reason: str | None = None,
        headers: LooseHeaders | None = None,
    ) -> None:
        self._headers: CIMultiDict[str] = CIMultiDict() if headers is None else CIMultiDict(headers)
        self.set_status(status, reason)

    # -- status line ---------------------------------------------------------------------

    @property
    def prepared(self) -> bool:
        return self._eof_sent or self._writer is not None

    @property
    def task(self) -> Any:
        return None if self._req is None else self._req.task

    @property
    def status(self) -> int:
        return self._status

    @property
    def reason(self) -> str:
        return self._reason

    def set_status(self, status: int, reason: str | None = None) -> None:
        if self.prepared:
            raise RuntimeError(
                "Cannot change the response status code after the headers have been sent"
            )
        status = int(status)
        if not 100 <= status <= 999:
            raise ValueError(f"status {status} is not a three-digit HTTP status code")
        if reason is None:
            reason = _REASONS.get(status, "")
        elif "\r" in reason or "\n" in reason:
            raise ValueError("Reason cannot contain \\r or \\n")
        self._status = status
        self._reason = reason

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._headers

    # -- framing and connection -------------------------------------------------------

    @property
    def keep_alive(self) -> bool | None:
        """False after ``force_close()``; else what the request asked, once prepared."""
        keep_alive = self._keep_alive
        if keep_alive is None and self._req is not None:
            keep_alive = self._keep_alive = self._req.keep_alive
        return keep_alive

    def force_close(self) -> None:
        """Close the connection after this response."""
        self._keep_alive = False

    @property
    def chunked(self) -> bool:
        return self._chunked

    @property
    def compression(self) -> bool:
        return self._compression

    @property
    def body_length(self) -> int:
        """Body bytes sent (after compression), known once the response ended."""
        return self._body_length

    @property
    def output_length(self) -> int:
        warnings.warn("output_length is deprecated", DeprecationWarning, stacklevel=2)
        return self._body_length

    def enable_chunked_encoding(self, chunk_size: int | None = None) -> None:
        """Send the body chunked (HTTP/1.1 only); drops any Content-Length."""
        if chunk_size is not None:
            warnings.warn("chunk_size is ignored", DeprecationWarning, stacklevel=2)
        if _CONTENT_LENGTH in self._headers:
            raise RuntimeError("You can't enable chunked encoding when a content length is set")
        self._chunked = True

    def enable_compression(
        self, force: ContentCoding | bool | None = None, strategy: int | None = None
    ) -> None:
        """Compress the body with gzip or deflate, as the request's Accept-Encoding allows.

        ``force`` picks the coding whatever the client said; ``strategy`` (a zlib
        strategy) is accepted for aiohttp compatibility and not used.
        """
        if isinstance(force, bool):
            warnings.warn("Using boolean for force is deprecated", DeprecationWarning, stacklevel=2)
            force = ContentCoding.deflate if force else ContentCoding.identity
        self._compression = True
        self._compression_force = force
        self._compression_strategy = strategy

    # -- entity headers ------------------------------------------------------------------

    @property
    def content_length(self) -> int | None:
        raw = self._headers.get(_CONTENT_LENGTH)
        return None if raw is None else int(raw)

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        if value is None:
            self._headers.popall(_CONTENT_LENGTH, None)
            return
        value = int(value)
        if value < 0:
            raise ValueError("Content-Length cannot be negative")
        if self._chunked:
            raise RuntimeError("You can't set content length when chunked encoding is enabled")
        self._headers[_CONTENT_LENGTH] = str(value)

    @property
    def content_type(self) -> str:
        raw = self._headers.get(_CONTENT_TYPE)
        if not raw:
            return _DEFAULT_TYPE
        mime = parse_mimetype(raw)
        suffix = f"+{mime.suffix}" if mime.suffix else ""
        return f"{mime.type}/{mime.subtype}{suffix}" if mime.type else _DEFAULT_TYPE

    @content_type.setter
    def content_type(self, value: str) -> None:
        value = str(value)
        check_header(_CONTENT_TYPE, value)
        params = self._content_type_params()
        params.extend(parse_mimetype(value).parameters.items())
        self._set_content_type(value.split(";", 1)[0].strip(), params)

    @property
    def charset(self) -> str | None:
        raw = self._headers.get(_CONTENT_TYPE)
        if not raw:
            return None
        charset = parse_mimetype(raw).parameters.get("charset")
        return charset.lower() if charset else None

    @charset.setter
    def charset(self, value: str | None) -> None:
        ctype = self.content_type
        if ctype == _DEFAULT_TYPE:
            raise RuntimeError(
                "Setting charset for application/octet-stream "
                "doesn't make sense, setup content_type first"
            )
        params = [(k, v) for k, v in self._content_type_params() if k.lower() != "charset"]
        if value is not None:
            check_header(_CONTENT_TYPE, value)
            params.append(("charset", str(value).lower()))
        self._set_content_type(ctype, params)

    def _content_type_params(self) -> list[tuple[str, str]]:
        raw = self._headers.get(_CONTENT_TYPE)
        return list(parse_mimetype(raw).parameters.items()) if raw else []

    def _set_content_type(self, ctype: str, params: list[tuple[str, str]]) -> None:
        merged: dict[str, tuple[str, str]] = {}
        for key, value in params:
            merged[key.lower()] = (key, value)
        tail = "".join(f"; {key}={value}" for key, value in merged.values())
        self._headers[_CONTENT_TYPE] = ctype + tail

    @property
    def last_modified(self) -> datetime | None:
        return parse_http_date(self._headers.get("Last-Modified"))

    @last_modified.setter
    def last_modified(self, value: int | float | datetime | str | None) -> None:
        if value is None:
            self._headers.popall("Last-Modified", None)
        elif isinstance(value, int | float | datetime | str):
            if isinstance(value, float):
                # Rounded up as aiohttp does, so "st_mtime <= if_modified_since" holds
                # when a client sends this value back.
                value = math.ceil(value)
            self._headers["Last-Modified"] = format_http_date(value)
        else:
            raise TypeError(f"Unsupported type for last_modified: {type(value).__name__}")

    @property
    def etag(self) -> ETag | None:
        return parse_etag(self._headers.get("ETag"))

    @etag.setter
    def etag(self, value: ETag | str | None) -> None:
        if value is None:
            self._headers.popall("ETag", None)
        else:
            self._headers["ETag"] = quote_etag(value)

    # -- sending -----------------------------------------------------------------------

    async def prepare(self, request: BaseRequest) -> ResponseWriter | None:
        """Send the head (once): runs ``on_response_prepare``, adds Date and Server."""
        if self._eof_sent:
            return None
        writer = self._writer
        if writer is not None:
            return writer
        self._req = request
        method = request.method
        status = self._status
        # The usual case (a body to send, no chunking or compression) skips two calls.
        if status < 200 or status in (204, 304) or method == "HEAD" or method == "CONNECT":
            self._must_be_empty_body = _must_be_empty_body(method, status)
            self._prepare_headers(request)
        elif self._compression or self._chunked:
            self._prepare_headers(request)
        if request._wants_prepare_hook():
            await request._prepare_hook(self)
        writer = self._writer = request.writer
        await self._send_head(writer, request)
        return writer

    def _prepare_headers(self, request: BaseRequest) -> None:
        headers = self._headers
        if self._compression and not self._must_be_empty_body:
            self._start_compression(request)
        if self._chunked:
            if request.version != HttpVersion11:
                version = request.version
                raise RuntimeError(
                    f"Using chunked encoding is forbidden for HTTP/{version.major}.{version.minor}"
                )
            if not self._must_be_empty_body:
                headers[_TRANSFER_ENCODING] = "chunked"
                headers.popall(_CONTENT_LENGTH, None)
        if self._must_be_empty_body:
            headers.popall(_TRANSFER_ENCODING, None)
            if _remove_length(request.method, self._status):
                headers.popall(_CONTENT_LENGTH, None)

    def _start_compression(self, request: BaseRequest) -> None:
        if _CONTENT_ENCODING in self._headers:
            return  # already encoded by the application
        coding = self._compression_force
        if coding is None:
            coding = _choose_coding(request.headers.get("Accept-Encoding", ""))
        self._headers.add("Vary", "Accept-Encoding")
        if coding is None or coding is ContentCoding.identity:
            return
        self._apply_coding(coding)

    def _apply_coding(self, coding: ContentCoding) -> None:
        self._headers[_CONTENT_ENCODING] = coding.value
        self._headers.popall(_CONTENT_LENGTH, None)
        self._encoder = ContentEncoder(coding.value)

    def _wire_headers(self, extra_length: int | None = None) -> RawHeaders:
        """The head as bytes pairs, plus the fields added on the wire only.

        ``extra_length`` is the Content-Length to send unless ``headers`` has one.

        One pass over ``headers`` both encodes them and notes which of the fields we
        would add are already there (cheaper than a lookup per field).
        """
        raw: RawHeaders = []
        append = raw.append
        seen = 0
        cached = _encoded_fields.get
        for item in self._headers.items():
            field, bit = cached(item) or _encode_field(item)
            append(field)
            seen |= bit
        if self._cookies:
            for cookie in self._cookie_fields():
                append((b"Set-Cookie", cookie.encode("utf-8")))
        if extra_length is not None and not seen & _HAS_LENGTH:
            append(
                _LENGTH_FIELDS[extra_length]
                if extra_length < 4096
                else (b"Content-Length", b"%d" % extra_length)
            )
        # RFC 9110 8.3: a type for content only (aiohttp sends none for an empty body).
        if not seen & _HAS_TYPE and not self._must_be_empty_body and extra_length != 0:
            append((b"Content-Type", b"application/octet-stream"))
        if not seen & _HAS_DATE:
            append(_date_header())
        if not seen & _HAS_SERVER:
            append(_SERVER_FIELD)
        if self._keep_alive is False and not seen & _HAS_CONNECTION:
            append((b"Connection", b"close"))
        return raw

    async def _send_head(self, writer: ResponseWriter, request: BaseRequest) -> None:
        writer.send_head(self._status, self._reason, self._wire_headers())

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send a piece of the body (waits while the client is slow to read)."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"data argument must be byte-ish, got {type(data).__name__}")
        if self._eof_sent:
            raise RuntimeError("Cannot call write() after write_eof()")
        writer = self._writer
        if writer is None:
            raise RuntimeError("Cannot call write() before prepare()")
        if self._must_be_empty_body:
            return  # HEAD, 204, 304: the body is never sent
        encoder = self._encoder
        chunk = bytes(data)
        if encoder is not None:
            chunk = encoder.compress(chunk)
        if chunk:
            await writer.write(chunk)

    async def drain(self) -> None:
        """Wait until the connection's write buffer is low (aiohttp keeps this too)."""
        writer = self._writer
        if writer is None:
            raise RuntimeError("Response has not been started")
        await writer.drain()

    async def write_eof(self, data: bytes = b"") -> None:
        """Send ``data`` (if any) and end the body; later calls do nothing."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"data argument must be byte-ish, got {type(data).__name__}")
        if self._eof_sent:
            return
        writer = self._writer
        if writer is None:
            raise RuntimeError("Response has not been started")
        chunk = b"" if self._must_be_empty_body else bytes(data)
        encoder = self._encoder
        if encoder is not None and not self._must_be_empty_body:
            chunk = encoder.compress(chunk) + encoder.flush()
        await writer.write_eof(chunk)
        self._eof_sent = True
        self._body_length = writer.output_size

    # (mapping storage and identity: LazyStateMapping)

    def __repr__(self) -> str:
        if self._eof_sent:
            info = "eof"
        elif self._req is not None:
            info = f"{self._req.method} {self._req.path} "
        else:
            info = "not prepared"
        return f"<{type(self).__name__} {self._reason} {info}>"
