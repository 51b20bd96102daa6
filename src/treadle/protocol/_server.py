"""The server side of an HTTP/1.1 connection: requests in, responses out."""

from __future__ import annotations

from collections import deque

from ._connection import Connection
from ._engines import make_request_engine
from ._errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from ._events import (
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    Headers,
    InformationalResponse,
    Request,
    Response,
)
from ._framing import BodyWriter, Framing
from ._headers import persistent, scan_fields
from ._limits import Limits
from ._writer import response_head, response_lines

__all__ = ["ServerConnection"]

_NO_BODY_STATUSES = frozenset((204, 304))


class _Exchange:
    """One request and the state of our answer to it."""

    __slots__ = (
        "expect_continue",
        "http_version",
        "keep_alive",
        "method",
        "request_done",
        "switch",
    )

    def __init__(
        self, method: bytes, http_version: bytes, keep_alive: bool, switch: bool, expect: bool
    ) -> None:
        self.method = method
        self.http_version = http_version
        self.keep_alive = keep_alive
        self.switch = switch
        self.expect_continue = expect
        self.request_done = False


class ServerConnection(Connection):
    """A sans-IO HTTP/1.1 server connection.

    Pipelined requests are parsed ahead and queued (up to
    ``Limits.max_pipelined_requests`` complete ones); responses are sent in request
    order. A CONNECT or Upgrade request pauses parsing until our answer decides
    whether the protocol switches.
    """

    def __init__(self, *, engine: str | None = None, limits: Limits | None = None) -> None:
        super().__init__(engine=engine, limits=limits)
        self._parser = make_request_engine(self.engine, self, self.limits)
        self._exchanges: deque[_Exchange] = deque()
        self._receiving: _Exchange | None = None
        self._input_closed = False

    # -- receiving (called by the engine) ----------------------------------------------

    def on_request_head(
        self, method: bytes, target: bytes, http_version: bytes, headers: Headers
    ) -> tuple[Framing, int]:
        if self._input_closed:
            raise RemoteProtocolError("request after Connection: close")
        limits = self.limits
        if len(self._exchanges) >= limits.max_pipelined_requests:
            # Every queued exchange is a complete request here: the one being received
            # ended (or this head would not have come).
            raise RemoteProtocolError("too many pipelined requests", status_hint=429)
        if http_version != b"1.1" and http_version != b"1.0":
            raise RemoteProtocolError(f"unsupported HTTP version {http_version!r}", status_hint=505)
        if len(method) + len(target) + 10 > limits.max_line_size:
            raise RemoteProtocolError("request line is too long", status_hint=414)
        host_count, length_count, length, coding, tokens, upgrade, expect_continue = scan_fields(
            headers, limits
        )
        # RFC 9112 6.3: conflicting or ambiguous framing is a request smuggling vector.
        if length_count > 1:
            raise RemoteProtocolError("repeated Content-Length")
        framing = Framing.NONE
        if coding is not None:
            if length_count:
                raise RemoteProtocolError("both Content-Length and Transfer-Encoding")
            if http_version == b"1.0":
                raise RemoteProtocolError("Transfer-Encoding in an HTTP/1.0 request")
            if not coding or coding[-1] != b"chunked":
                raise RemoteProtocolError("Transfer-Encoding must end with chunked")
            if len(coding) > 1:
                raise RemoteProtocolError("unsupported transfer coding", status_hint=501)
            framing = Framing.CHUNKED
        elif length:
            framing = Framing.LENGTH
            self._check_declared_length(length)
        # RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0.
        if host_count != 1 and (http_version == b"1.1" or host_count > 1):
            raise RemoteProtocolError("missing Host" if not host_count else "repeated Host")
        if tokens:
            keep_alive = persistent(http_version, tokens)
            switch = method == b"CONNECT" or (upgrade and b"upgrade" in tokens)
        else:  # RFC 9112 9.3, without a Connection field
            keep_alive = http_version == b"1.1"
            switch = method == b"CONNECT"
        if switch and framing is not Framing.NONE:
            raise RemoteProtocolError("a CONNECT or Upgrade request cannot have a body")
        expect = expect_continue and framing is not Framing.NONE and http_version == b"1.1"
        exchange = _Exchange(method, http_version, keep_alive, switch, expect)
        self._exchanges.append(exchange)
        self._receiving = exchange
        self._body_bytes = 0
        self._events.append(Request(method, target, headers, http_version))
        return framing, length or 0

    def on_data(self, data: bytes) -> None:
        receiving = self._receiving
        if receiving is not None:
            receiving.expect_continue = False  # RFC 9110 10.1.1: the client went ahead
        super().on_data(data)

    def on_message_complete(self, trailers: Headers) -> bool:
        exchange = self._receiving
        assert exchange is not None
        self._receiving = None
        exchange.request_done = True
        exchange.expect_continue = False
        self._events.append(EndOfMessage(trailers))
        if exchange.switch:
            self._switch_pending = True
            return True
        if not exchange.keep_alive:
            self._input_closed = True
            return True
        return False

    def _feed(self, data: bytes) -> None:
        if self._input_closed:
            # As llhttp: after a request that ends the connection, CR and LF are skipped
            # and any other byte is refused at once, whichever engine parses.
            if data.lstrip(b"\r\n"):
                self._error = RemoteProtocolError("data after Connection: close")
            return
        # Connection._feed, inlined: this runs for every read.
        events = self._events
        before = len(events)
        try:
            leftover = self._parser.feed(data)
        except ProtocolError as exc:
            self._error = exc
            return
        if leftover is not None:
            self._parsing_stopped(leftover)
        elif len(events) != before:
            self._framing_run = 0
        elif self._receiving is not None:
            self._count_framing(len(data))  # inside a body: see Connection._count_framing

    def _parsing_stopped(self, leftover: bytes) -> None:
        if self._switch_pending:
            self._hold(leftover)
        elif leftover.lstrip(b"\r\n"):  # llhttp skips line ends between messages
            self._error = RemoteProtocolError("data after Connection: close")

    # -- state for the layer above -----------------------------------------------------

    @property
    def client_is_waiting_for_100_continue(self) -> bool:
        """RFC 9110 10.1.1: answer with ``InformationalResponse(100)`` or a final response."""
        receiving = self._receiving
        return receiving is not None and receiving.expect_continue

    @property
    def pending_requests(self) -> int:
        """Requests received (at least their head) that are not fully answered yet."""
        return len(self._exchanges)

    # -- sending -----------------------------------------------------------------------

    def send(self, event: Event) -> bytes:
        """Serialise ``event``; raises ``LocalProtocolError`` if it is not allowed now."""
        kind = type(event)
        if kind is Data:
            return self._send_body(event.data)  # type: ignore[attr-defined]
        if kind is EndOfMessage:
            return self._send_end(event.headers)  # type: ignore[attr-defined]
        if kind is Response:
            return self._send_response(event)  # type: ignore[arg-type]
        if kind is InformationalResponse:
            return self._send_informational(event)  # type: ignore[arg-type]
        if kind is ConnectionClosed:
            self._must_close = True
            return b""
        raise LocalProtocolError(f"a server cannot send {event!r}")

    def _current_exchange(self) -> _Exchange:
        if self._must_close:
            raise LocalProtocolError("the connection is closing: nothing more can be sent")
        if self._writer is not None:
            raise LocalProtocolError("a response is already being sent")
        if self._exchanges:
            return self._exchanges[0]
        if self._error is not None:
            # An error response to a request we could not parse.
            exchange = _Exchange(b"GET", b"1.1", False, False, False)
            exchange.request_done = True
            self._exchanges.append(exchange)
            return exchange
        raise LocalProtocolError("there is no request to respond to")

    def _send_informational(self, event: InformationalResponse) -> bytes:
        status = event.status_code
        if not 100 <= status < 200:
            raise LocalProtocolError(f"{status} is not an informational status")
        exchange = self._current_exchange()
        if status == 101 and not (exchange.switch and exchange.method != b"CONNECT"):
            raise LocalProtocolError("101 Switching Protocols answers an Upgrade request only")
        head = response_head(status, event.reason, event.headers)
        if status == 101:
            self._switch()
            self._must_close = True
            self._exchanges.clear()
        exchange.expect_continue = False
        return head

    def _send_response(self, event: Response) -> bytes:
        status = event.status_code
        if not 200 <= status <= 999:
            raise LocalProtocolError(f"{status} is not a final status")
        exchanges = self._exchanges
        if exchanges and self._writer is None and not self._must_close:
            exchange = exchanges[0]  # the usual case, checked inline
        else:
            exchange = self._current_exchange()
        # One pass serialises the fields (refusing injection) and reads their framing.
        lines, length, chunked, tokens = response_lines(status, event.reason, event.headers)
        method = exchange.method
        tunnel = exchange.switch and method == b"CONNECT" and 200 <= status < 300
        if chunked and exchange.http_version == b"1.0":
            # RFC 9112 6.1: no Transfer-Encoding towards an HTTP/1.0 client; close instead.
            chunked = False
            headers = [f for f in event.headers if f[0].lower() != b"transfer-encoding"]
            lines = response_lines(status, event.reason, headers)[0]
        if method == b"HEAD" or status in _NO_BODY_STATUSES or tunnel:
            framing = Framing.NONE
        elif chunked:
            framing = Framing.CHUNKED
        elif length is not None:
            framing = Framing.LENGTH
        elif exchange.http_version == b"1.1":
            framing = Framing.CHUNKED
            lines.append(b"Transfer-Encoding: chunked\r\n")
        else:
            framing = Framing.UNTIL_CLOSE
        keep_alive = (
            exchange.keep_alive
            and b"close" not in tokens
            and framing is not Framing.UNTIL_CLOSE
            # After bad input, complete requests queued before it are still answered;
            # the error's own answer (sent last) closes.
            and (self._error is None or exchange.request_done)
        )
        if not keep_alive and b"close" not in tokens:
            lines.append(b"Connection: close\r\n")
        elif keep_alive and exchange.http_version == b"1.0" and b"keep-alive" not in tokens:
            lines.append(b"Connection: keep-alive\r\n")
        lines.append(b"\r\n")
        head = b"".join(lines)
        if tunnel:
            self._switch()  # first: it may refuse, and nothing is committed yet
        exchange.keep_alive = keep_alive
        exchange.expect_continue = False
        self._writer = BodyWriter(framing, length or 0)
        if exchange.switch and not tunnel:
            self._resume_parsing()
        return head

    def send_whole(self, response: Response, body: bytes = b"") -> bytes:
        """``send(response) + send(Data(body)) + send(EndOfMessage())`` in one call.

        The common case of a server: a final response whose whole body is known. The
        same checks apply (a body longer or shorter than its Content-Length raises
        ``LocalProtocolError``); only the per-event dispatch and objects are saved.
        """
        if type(response) is not Response:
            raise LocalProtocolError(f"send_whole() takes a final Response, not {response!r}")
        head = self._send_response(response)
        writer = self._writer
        assert writer is not None
        if writer.framing is Framing.LENGTH and len(body) == writer.remaining:
            out = head + body if body else head  # the usual case: nothing to frame
            self._writer = None
        else:
            out = head + writer.data(body) if body else head
            out += writer.end([])
            self._writer = None
        exchange = self._exchanges.popleft()
        if not exchange.keep_alive or not exchange.request_done or self._switched:
            self._must_close = True
        return out

    def _send_end(self, trailers: Headers) -> bytes:
        out = self._end_body(trailers)
        exchange = self._exchanges.popleft()
        if not exchange.keep_alive or not exchange.request_done or self._switched:
            # An unread request body would be parsed as the next request: close instead.
            self._must_close = True
        return out
