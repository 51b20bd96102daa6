"""The client side of an HTTP/1.1 connection: requests out, responses in.

One request at a time (no client pipelining, as in h11 and aiohttp): the next request
can be sent once the previous exchange is complete in both directions.
"""

from __future__ import annotations

from ._connection import Connection
from ._engines import make_response_engine
from ._engines._base import ResponseEngine
from ._errors import LocalProtocolError, RemoteProtocolError
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
from ._writer import request_framed

__all__ = ["ClientConnection"]


class _Exchange:
    __slots__ = (
        "keep_alive",
        "method",
        "proposes_upgrade",
        "request_done",
        "response_done",
        "tunnel",
    )

    def __init__(self, method: bytes, keep_alive: bool, proposes_upgrade: bool) -> None:
        self.method = method
        self.keep_alive = keep_alive
        self.proposes_upgrade = proposes_upgrade
        self.request_done = False
        self.response_done = False
        self.tunnel = False  # a 2xx answer to CONNECT: the connection becomes a tunnel


def _has_field(headers: Headers, wanted: bytes) -> bool:
    return any(name.lower() == wanted for name, _ in headers)


class ClientConnection(Connection):
    """A sans-IO HTTP/1.1 client connection."""

    _parser: ResponseEngine

    def __init__(self, *, engine: str | None = None, limits: Limits | None = None) -> None:
        super().__init__(engine=engine, limits=limits)
        self._parser = make_response_engine(self.engine, self, self.limits)
        self._exchange: _Exchange | None = None
        self._informational = 0
        self._until_close = False
        self._max_body_size = self.limits.max_body_size

    # -- receiving (called by the engine) ----------------------------------------------

    def on_response_head(
        self, status_code: int, reason: bytes, http_version: bytes, headers: Headers
    ) -> tuple[Framing, int]:
        exchange = self._exchange
        if exchange is None or exchange.response_done:  # pragma: no cover - engines guard
            raise RemoteProtocolError("a response nobody asked for")
        if http_version != b"1.1" and http_version != b"1.0":
            raise RemoteProtocolError(f"unsupported HTTP version {http_version!r}")
        if not 100 <= status_code <= 999:
            raise RemoteProtocolError(f"invalid status code {status_code}")
        # One plain tuple from the field scan: no summary object per response.
        _, length_count, length, coding, tokens, upgrade, _ = scan_fields(headers, self.limits)
        if status_code < 200:
            if status_code == 101 and not (
                exchange.proposes_upgrade and upgrade and b"upgrade" in tokens
            ):
                # RFC 9110 7.8: a 101 answers an Upgrade request with Upgrade and
                # Connection: upgrade of its own.
                raise RemoteProtocolError("101 Switching Protocols without a valid upgrade")
            if status_code != 101 and not persistent(http_version, tokens):
                # llhttp takes an interim response that closes the connection as its
                # end and refuses the final response after it; refusing the interim
                # response itself gives one outcome on every engine.
                raise RemoteProtocolError("an interim (1xx) response that closes the connection")
            self._informational = status_code
            self._events.append(InformationalResponse(status_code, headers, reason, http_version))
            return Framing.NONE, 0
        if length_count > 1:
            raise RemoteProtocolError("repeated Content-Length")
        method = exchange.method
        if coding is not None and length_count:
            raise RemoteProtocolError("both Content-Length and Transfer-Encoding")
        # RFC 9112 6.3: which responses have no body, and how the others end.
        exchange.tunnel = method == b"CONNECT" and 200 <= status_code < 300
        if method == b"HEAD" or status_code in (204, 304) or exchange.tunnel:
            framing = Framing.NONE
        elif coding is not None:
            if not coding or coding[-1] != b"chunked" or len(coding) > 1:
                raise RemoteProtocolError("unsupported transfer coding", status_hint=501)
            framing = Framing.CHUNKED
        elif length:
            framing = Framing.LENGTH
            if self._max_body_size is not None:
                self._check_declared_length(length)
        elif length_count:
            framing = Framing.NONE  # Content-Length: 0
        else:
            framing = Framing.UNTIL_CLOSE
        until_close = self._until_close = framing is Framing.UNTIL_CLOSE
        if exchange.keep_alive and (until_close or not persistent(http_version, tokens)):
            exchange.keep_alive = False
        self._body_bytes = 0
        self._events.append(Response(status_code, headers, reason, http_version))
        return framing, length or 0

    def on_message_complete(self, trailers: Headers) -> bool:
        if self._informational:
            switching = self._informational == 101
            self._informational = 0
            if switching:
                self._switched = True
            return switching
        self._events.append(EndOfMessage(trailers))
        self._until_close = False
        exchange = self._exchange
        assert exchange is not None
        exchange.response_done = True
        if exchange.tunnel:
            self._switched = True
        self._finish_exchange(exchange)
        return self._switched

    def _parsing_stopped(self, leftover: bytes) -> None:
        if self._switched:
            self._hold(leftover)
        elif leftover:
            self._error = RemoteProtocolError("data after the end of the response")

    def _receive_eof(self) -> None:
        if not self._until_close:
            super()._receive_eof()
            return
        # RFC 9112 6.3 item 8: a body without framing ends when the server closes.
        self._until_close = False
        self.on_message_complete([])
        self._eof = True
        self._events.append(ConnectionClosed())

    def _finish_exchange(self, exchange: _Exchange) -> None:
        if not (exchange.request_done and exchange.response_done):
            return
        if exchange.keep_alive and not self._switched:
            self._exchange = None
        else:
            self._must_close = True

    # -- state for the layer above -----------------------------------------------------

    @property
    def is_idle(self) -> bool:
        """Whether a new request can be sent (the last exchange ended with keep-alive)."""
        return self._exchange is None and not self._must_close and self._error is None

    # -- sending -----------------------------------------------------------------------

    def send(self, event: Event) -> bytes:
        """Serialise ``event``; raises ``LocalProtocolError`` if it is not allowed now."""
        kind = type(event)
        if kind is Data:
            return self._send_body(event.data)  # type: ignore[attr-defined]
        if kind is EndOfMessage:
            out = self._end_body(event.headers)  # type: ignore[attr-defined]
            exchange = self._exchange
            assert exchange is not None
            exchange.request_done = True
            self._finish_exchange(exchange)
            return out
        if kind is Request:
            return self._send_request(event)  # type: ignore[arg-type]
        if kind is ConnectionClosed:
            self._must_close = True
            return b""
        raise LocalProtocolError(f"a client cannot send {event!r}")

    def _send_request(self, event: Request) -> bytes:
        if not self.is_idle or self._eof:
            raise LocalProtocolError(
                "cannot send a request now: the previous exchange is unfinished "
                "or the connection is closing"
            )
        method = event.method
        key = (method, event.target, event.http_version, *event.headers)
        known = _checked_heads.get(key)
        if known is None:
            known = _check_request(event)
            if len(_checked_heads) >= _CHECKED_HEADS_MAX:
                _checked_heads.clear()
            _checked_heads[key] = known
        head, framing, length, keep_alive, proposes_upgrade = known
        self._exchange = _Exchange(method, keep_alive, proposes_upgrade)
        self._writer = BodyWriter(framing, length)
        self._parser.expect_response(method, proposes_upgrade)
        return head


# Request heads already checked and serialised, keyed by everything they are made of:
# a client repeats the same few heads (same URL, same default fields) again and again.
# Bounded: emptied when full, so heads that never repeat cannot grow it.
_CheckedHead = tuple[bytes, Framing, int, bool, bool]
_checked_heads: dict[tuple[object, ...], _CheckedHead] = {}
_CHECKED_HEADS_MAX = 512


def _check_request(event: Request) -> _CheckedHead:
    """The head's bytes and what it means for framing and persistence; refuses what
    RFC 9112 forbids a client to send (``LocalProtocolError``)."""
    headers = event.headers
    http_version = event.http_version
    if http_version != b"1.1" and http_version != b"1.0":
        raise LocalProtocolError(f"cannot send HTTP version {http_version!r}")
    head, length, chunked, tokens = request_framed(
        event.method, event.target, http_version, headers
    )
    if (
        http_version == b"1.1"
        and not (headers and headers[0][0].lower() == b"host")  # where clients put it
        and not _has_field(headers, b"host")
    ):
        raise LocalProtocolError("an HTTP/1.1 request needs a Host header (RFC 9112 3.2)")
    if chunked:
        if http_version == b"1.0":
            raise LocalProtocolError("HTTP/1.0 has no chunked transfer coding (RFC 9112 6.1)")
        framing = Framing.CHUNKED
    elif length:
        framing = Framing.LENGTH
    else:
        framing = Framing.NONE
    if tokens:
        keep_alive = persistent(http_version, tokens)
        proposes_upgrade = b"upgrade" in tokens and _has_field(headers, b"upgrade")
    else:
        keep_alive = http_version == b"1.1"  # RFC 9112 9.3, no Connection field
        proposes_upgrade = False
    return head, framing, length or 0, keep_alive, proposes_upgrade
