"""The h11 engine: the pure-Python reference parser.

h11 parses each head; the lexer in ``_lexer`` checks every line first and hands h11 the
head in canonical form, and bodies are decoded by ``_body``, so that this engine
accepts and refuses exactly what the llhttp engine does. Each head gets a fresh
``h11.Connection`` (cheaper than replaying our side of the exchange into h11), so
pipelining, keep-alive and declined upgrades are decided by the core, not by h11.
"""

from __future__ import annotations

import h11

from .._errors import RemoteProtocolError
from .._events import Headers
from .._framing import Framing
from .._limits import Limits
from ._base import RequestSink, ResponseSink
from ._body import ChunkedDecoder, Decoder, LengthDecoder, UntilCloseDecoder
from ._lexer import HeadScanner

__all__ = ["H11RequestEngine", "H11ResponseEngine"]

_PLACEHOLDER_HOST = (b"Host", b"treadle.invalid")
_UPGRADE_PROPOSAL = [(b"Connection", b"upgrade"), (b"Upgrade", b"treadle")]


def _decoder(framing: Framing, length: int, limits: Limits) -> Decoder | None:
    if framing is Framing.CHUNKED:
        return ChunkedDecoder(limits)
    if framing is Framing.LENGTH:
        return LengthDecoder(length)
    if framing is Framing.UNTIL_CLOSE:
        return UntilCloseDecoder()
    return None


def _next_head_event(conn: h11.Connection, head: bytes) -> object:
    """h11's event for a whole head; the lexer has withheld Content-Length and
    Transfer-Encoding (checked by it and the core), so h11 applies no framing rule."""
    conn.receive_data(head)
    try:
        return conn.next_event()
    except h11.RemoteProtocolError as exc:
        raise RemoteProtocolError(str(exc), status_hint=exc.error_status_hint) from None


class _H11Engine:
    """The loop shared by both directions: heads through h11, bodies through decoders."""

    def __init__(self, limits: Limits, *, is_request: bool) -> None:
        self._limits = limits
        self._scanner = HeadScanner(limits, is_request=is_request)
        self._decoder: Decoder | None = None

    @property
    def in_message(self) -> bool:
        return self._decoder is not None or self._scanner.pending

    def feed(self, data: bytes) -> bytes | None:
        while data:
            decoder = self._decoder
            if decoder is None:
                found = self._scanner.feed(data)
                if found is None:
                    return None
                start, head, fields, data = found
                framing, length = self._head(start.http_version, start.reason, head, fields)
                decoder = _decoder(framing, length, self._limits)
                if decoder is None:
                    if self._complete([]):
                        return data
                    continue
                self._decoder = decoder
                if not data:
                    return None
            rest = decoder.feed(data, self._on_data)
            if rest is None:
                return None
            self._decoder = None
            if self._complete(decoder.trailers):
                return rest
            data = rest
        return None

    def _head(
        self, http_version: bytes, reason: bytes, head: bytes, fields: Headers
    ) -> tuple[Framing, int]:
        """Parse ``head`` with h11 and hand the sink the fields as sent (``fields``)."""
        raise NotImplementedError

    def _on_data(self, data: bytes) -> None:
        raise NotImplementedError

    def _complete(self, trailers: Headers) -> bool:
        """The message ended; True stops parsing (switch, or nothing more may come)."""
        raise NotImplementedError


class H11RequestEngine(_H11Engine):
    """Parses requests with h11 for a server connection."""

    def __init__(self, sink: RequestSink, limits: Limits) -> None:
        super().__init__(limits, is_request=True)
        self._sink = sink
        self._on_data = sink.on_data  # type: ignore[method-assign]

    def _head(
        self, http_version: bytes, reason: bytes, head: bytes, fields: Headers
    ) -> tuple[Framing, int]:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=len(head) + 1)
        event = _next_head_event(conn, head)
        if type(event) is not h11.Request:  # pragma: no cover - the lexer saw a whole head
            raise RemoteProtocolError("malformed request head")
        return self._sink.on_request_head(event.method, event.target, http_version, fields)

    def _complete(self, trailers: Headers) -> bool:
        return self._sink.on_message_complete(trailers)


class H11ResponseEngine(_H11Engine):
    """Parses responses with h11 for a client connection."""

    def __init__(self, sink: ResponseSink, limits: Limits) -> None:
        super().__init__(limits, is_request=False)
        self._sink = sink
        self._on_data = sink.on_data  # type: ignore[method-assign]
        self._request: h11.Request | None = None
        self._final = False
        self._interim_seen = False
        self._switched = False

    def expect_response(self, method: bytes, proposes_upgrade: bool) -> None:
        """Remember which request the next response answers (HEAD, CONNECT, upgrade)."""
        headers = [_PLACEHOLDER_HOST]
        if proposes_upgrade:
            headers += _UPGRADE_PROPOSAL
        target = b"treadle.invalid:443" if method == b"CONNECT" else b"/"
        self._request = h11.Request(method=method, target=target, headers=headers)

    def feed(self, data: bytes) -> bytes | None:
        if self._request is not None:
            rest = super().feed(data)
            if rest is None or self._request is not None or self._switched:
                return rest
            data = rest
        # As llhttp: between responses CR and LF are skipped, anything else refused.
        if data.lstrip(b"\r\n"):
            raise RemoteProtocolError("data from the server while no request is outstanding")
        return None

    def _head(
        self, http_version: bytes, reason: bytes, head: bytes, fields: Headers
    ) -> tuple[Framing, int]:
        request = self._request
        assert request is not None
        conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=len(head) + 1)
        conn.send(request)
        conn.send(h11.EndOfMessage())
        event = _next_head_event(conn, head)
        if type(event) is not h11.Response and type(event) is not h11.InformationalResponse:
            raise RemoteProtocolError("malformed response head")  # pragma: no cover
        status_code = event.status_code
        self._final = status_code >= 200
        if not self._final:
            self._interim_seen = True
        return self._sink.on_response_head(status_code, reason, http_version, fields)

    @property
    def in_message(self) -> bool:
        # After an interim response the final one is still owed: EOF now cuts it off.
        return self._interim_seen or super().in_message

    def _complete(self, trailers: Headers) -> bool:
        stop = self._sink.on_message_complete(trailers)
        if self._final:
            self._interim_seen = False
            self._switched = stop
            self._request = None
            return True
        return stop
