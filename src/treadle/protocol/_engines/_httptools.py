"""The httptools engine: llhttp in strict mode, the fast default.

llhttp calls back into this adapter, which forwards to the core's sink. Two gaps in what
httptools exposes are bridged here: it has no way to skip the body of a response to
HEAD (or to stop after a 2xx answer to CONNECT), so such heads are cut out and parsed
alone; and it buffers a partly received header without limit, so the bytes of an
unfinished head are counted across calls and bounded by ``Limits.max_head_size``.
"""

from __future__ import annotations

import httptools

from .._errors import ProtocolError, RemoteProtocolError
from .._events import Headers
from .._headers import (
    check_coding_ows,
    check_field_sizes,
    check_reason,
    check_trailer_name,
)
from .._limits import Limits
from ._base import RequestSink, ResponseSink

__all__ = ["HttptoolsRequestEngine", "HttptoolsResponseEngine"]

_VERSIONS = {"1.1": b"1.1", "1.0": b"1.0"}
_OWS = (32, 9)  # SP, HTAB
# Start lines are measured as the lexer of the h11 engine measures them, from what llhttp
# reports: "METHOD SP target SP HTTP/x.y" and "HTTP/x.y SP 200 SP reason".
_REQUEST_LINE_EXTRA = len(" ") + len(" HTTP/1.1")
_SHORTEST_METHOD = 3  # GET, PUT, ACL
_STATUS_LINE_EXTRA = len("HTTP/1.1 200 ")


def _version(text: str) -> bytes:
    return _VERSIONS.get(text) or text.encode("ascii")


def _translate(exc: httptools.HttpParserError) -> ProtocolError:
    """Turn an httptools error into ours, unwrapping errors our sink raised."""
    cause = exc.__context__
    if isinstance(exc, httptools.HttpParserCallbackError) and isinstance(cause, ProtocolError):
        return cause
    reason = str(exc) or type(exc).__name__
    if reason == "Content-Length overflow":
        # Past 64 bits; the core answers 413 to any Content-Length over 18 digits.
        return RemoteProtocolError("Content-Length is too large", status_hint=413)
    return RemoteProtocolError(f"malformed HTTP message: {reason}")


class _HeadCollector:
    """The llhttp callbacks shared by both directions: head pieces and limits.

    This is the hot path of every request, so the per-field work is kept to what the
    limits need; the size of the whole head is only summed when it could exceed
    ``max_head_size`` (a head spanning calls, or one call larger than the limit).
    """

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._max_headers = limits.max_headers
        # A head no larger than this needs no size check at all (the usual case).
        self._unchecked_size = min(limits.max_field_size, limits.max_head_size)
        self._headers: Headers = []
        self._head_bytes = 0  # bytes of an unfinished head fed in earlier calls
        self._head_upper = 0  # an upper bound of the same, to know when to check sizes
        self._fed = 0  # size of the current feed() call
        self._in_head = False
        self._began_in_this_feed = False
        self._in_message = False

    @property
    def in_message(self) -> bool:
        return self._in_message

    def _begin(self) -> None:
        self._in_message = True
        self._in_head = True
        self._began_in_this_feed = True
        self._head_bytes = 0
        self._head_upper = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        # Field sizes are checked by the core once the head is complete; the count is
        # checked here so one large feed cannot grow the list past the limit.
        if not self._in_head:
            check_trailer_name(name)
        if value and value[-1] in _OWS:
            check_coding_ows(name, value)
            value = value.rstrip(b" \t")  # llhttp keeps trailing OWS; RFC 9110 5.5 drops it
        headers = self._headers
        headers.append((name, value))
        if len(headers) > self._max_headers:
            raise RemoteProtocolError("too many header fields", status_hint=431)

    def _head_complete(self, start_line_size: int) -> Headers:
        """End of the head: check its total size if it could be too large."""
        self._in_head = False
        headers = self._headers
        self._headers = []  # what follows a chunked body are trailers
        seen = self._head_upper + self._fed  # no field or head can be larger than this
        if seen > self._unchecked_size:
            self._check_head_size(headers, start_line_size, seen)
        return headers

    def _check_head_size(self, headers: Headers, start_line_size: int, seen: int) -> None:
        limits = self._limits
        if seen > limits.max_field_size:
            check_field_sizes(headers, limits)
        if seen > limits.max_head_size:
            size = start_line_size + sum(len(name) + len(value) + 4 for name, value in headers)
            if size > limits.max_head_size:
                raise RemoteProtocolError("message head is too large", status_hint=431)

    def _account_unfinished_head(self) -> None:
        """Bound the bytes llhttp holds for a head that spans several ``feed`` calls."""
        if not self._in_head:
            return
        if self._began_in_this_feed:
            # Only part of this call belongs to the head; count what llhttp reported.
            self._head_bytes = sum(len(name) + len(value) + 4 for name, value in self._headers)
            self._head_upper = self._fed
        else:
            self._head_bytes += self._fed
            self._head_upper += self._fed
        if self._head_bytes > self._limits.max_head_size:
            raise RemoteProtocolError("message head is too large", status_hint=431)


class HttptoolsRequestEngine(_HeadCollector):
    """Parses requests with llhttp for a server connection."""

    def __init__(self, sink: RequestSink, limits: Limits) -> None:
        super().__init__(limits)
        self._sink = sink
        self._url = b""
        self._max_line_size = limits.max_line_size
        # A target up to this long fits in any request line: no method look-up needed.
        self._max_short_target = limits.max_line_size - _REQUEST_LINE_EXTRA - _SHORTEST_METHOD
        # Body pieces go straight to the sink: no frame of ours per chunk. (httptools
        # looks the callback up when the parser is made, so this comes first.)
        self.on_body = sink.on_data
        self._parser = httptools.HttpRequestParser(self)

    def on_message_begin(self) -> None:
        # _begin(), inlined: this runs for every request.
        self._in_message = True
        self._in_head = True
        self._began_in_this_feed = True
        self._head_bytes = 0
        self._head_upper = 0
        self._url = b""

    def on_url(self, url: bytes) -> None:
        if self._url:
            url = self._url + url
        self._url = url
        if len(url) > self._max_short_target:
            self._check_request_line(url)

    def _check_request_line(self, url: bytes) -> None:
        """Refuse a request line over ``max_line_size`` (414) as soon as its target shows
        it, counting single spaces and a version: a line without one (HTTP/0.9) is
        refused anyway, and the lexer of the h11 engine measures lines the same way."""
        size = len(self._parser.get_method()) + len(url) + _REQUEST_LINE_EXTRA
        if size > self._max_line_size:
            raise RemoteProtocolError("request line is too long", status_hint=414)

    def on_headers_complete(self) -> None:
        url = self._url
        # _head_complete(), inlined for the hot path.
        self._in_head = False
        headers = self._headers
        self._headers = []  # what follows a chunked body are trailers
        seen = self._head_upper + self._fed
        if seen > self._unchecked_size:
            self._check_head_size(headers, len(url), seen)
        parser = self._parser
        version = parser.get_http_version()
        self._sink.on_request_head(
            parser.get_method(),
            url,
            b"1.1" if version == "1.1" else _version(version),
            headers,
        )

    def on_message_complete(self) -> None:
        self._in_message = False
        trailers = self._headers
        self._headers = []
        if trailers:
            check_field_sizes(trailers, self._limits)
        self._sink.on_message_complete(trailers)

    def feed(self, data: bytes) -> bytes | None:
        self._began_in_this_feed = False
        self._fed = len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            # llhttp stops after a CONNECT or Upgrade request, as the core does.
            return data[upgrade.args[0] :]
        except httptools.HttpParserError as exc:
            raise _translate(exc) from None
        if self._in_head:
            self._account_unfinished_head()
        return None


class _HeadOnly:
    """Parses one response head cut out of the stream (answers to HEAD and CONNECT)."""

    def __init__(self, collector: _HeadCollector) -> None:
        self._collector = collector
        self.status_code = 0
        self.reason = b""
        self.http_version = b""
        self.headers: Headers = []
        self._parser = httptools.HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._collector.on_header(name, value)

    def on_status(self, reason: bytes) -> None:
        self.reason += reason
        if len(self.reason) + _STATUS_LINE_EXTRA > self._collector._limits.max_line_size:
            raise RemoteProtocolError("status line is too long")
        check_reason(reason)

    def on_headers_complete(self) -> None:
        self.status_code = self._parser.get_status_code()
        self.http_version = _version(self._parser.get_http_version())
        self.headers = self._collector._head_complete(len(self.reason))

    def parse(self, head: bytes) -> None:
        self._collector._begin()
        self._collector._headers = []
        self._collector._fed = len(head)
        try:
            self._parser.feed_data(head)
        except httptools.HttpParserUpgrade:
            pass
        except httptools.HttpParserError as exc:
            raise _translate(exc) from None
        if not self.status_code:
            raise RemoteProtocolError("malformed HTTP message: incomplete response head")


class HttptoolsResponseEngine(_HeadCollector):
    """Parses responses with llhttp for a client connection."""

    def __init__(self, sink: ResponseSink, limits: Limits) -> None:
        super().__init__(limits)
        self._sink = sink
        self._reason = b""
        # The whole status line is limited: llhttp reports only the reason.
        self._max_reason = limits.max_line_size - _STATUS_LINE_EXTRA
        self.on_body = sink.on_data  # before any parser is made, as above
        self._parser = httptools.HttpResponseParser(self)
        self._method: bytes | None = None
        self._head_only = False
        self._pending = b""
        # Whether llhttp sits between messages (fresh, or after a final response): then
        # it parses the next response as it is, and no new parser is made per request.
        self._clean = True

    def expect_response(self, method: bytes, proposes_upgrade: bool) -> None:
        self._method = method
        self._head_only = method == b"HEAD" or method == b"CONNECT"
        if not self._clean:
            self._parser = httptools.HttpResponseParser(self)
            self._clean = True
        self._pending = b""

    def on_message_begin(self) -> None:
        if self._method is None:
            raise RemoteProtocolError("data from the server while no request is outstanding")
        self._begin()
        self._headers = []
        self._reason = b""

    def on_status(self, reason: bytes) -> None:
        # Once per response (per piece of a reason split across reads).
        self._reason += reason
        if len(self._reason) > self._max_reason:
            raise RemoteProtocolError("status line is too long")
        if not reason.isalpha():
            check_reason(reason)

    def on_headers_complete(self) -> None:
        headers = self._head_complete(len(self._reason))
        parser = self._parser
        status_code = parser.get_status_code()
        http_version = _version(parser.get_http_version())
        self._sink.on_response_head(status_code, self._reason, http_version, headers)

    def on_message_complete(self) -> None:
        trailers = self._headers
        self._headers = []
        if trailers:
            check_field_sizes(trailers, self._limits)
        if self._parser.get_status_code() >= 200:
            self._in_message = False
            self._method = None
            self._clean = True
        self._sink.on_message_complete(trailers)

    @property
    def in_message(self) -> bool:
        return self._in_message or bool(self._pending)

    def feed(self, data: bytes) -> bytes | None:
        if self._head_only:
            return self._feed_head_only(data)
        if self._method is None:
            if not data.lstrip(b"\r\n"):
                return None  # llhttp skips CR and LF between messages
            raise RemoteProtocolError("data from the server while no request is outstanding")
        self._began_in_this_feed = False
        self._fed = len(data)
        self._clean = False
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            return data[upgrade.args[0] :]  # 101 Switching Protocols
        except httptools.HttpParserError as exc:
            raise _translate(exc) from None
        if self._in_head:
            self._account_unfinished_head()
        return None

    def _feed_head_only(self, data: bytes) -> bytes | None:
        buffer = self._pending + data
        while True:
            if buffer[:1] in (b"\r", b"\n"):
                buffer = buffer.lstrip(b"\r\n")  # llhttp skips CR and LF before a head
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > self._limits.max_head_size:
                    raise RemoteProtocolError("message head is too large", status_hint=431)
                self._pending = buffer
                return None
            head, buffer = buffer[: end + 4], buffer[end + 4 :]
            probe = _HeadOnly(self)
            probe.parse(head)
            status = probe.status_code
            if self._method == b"CONNECT" and status >= 200 and not 200 <= status < 300:
                # A refused CONNECT: an ordinary response with an ordinary body.
                self._head_only = False
                self._pending = b""
                return self.feed(head + buffer)
            sink = self._sink
            sink.on_response_head(status, probe.reason, probe.http_version, probe.headers)
            if status < 200:
                # The final response is still owed: EOF now cuts it off (in_message).
                if sink.on_message_complete([]):
                    self._pending = b""
                    return buffer
                continue
            self._in_message = False
            self._method = None
            self._head_only = False
            self._pending = b""
            stop = sink.on_message_complete([])
            if stop:
                return buffer
            if buffer.lstrip(b"\r\n"):  # llhttp skips CR and LF between messages
                raise RemoteProtocolError("data after the end of the response")
            return None
