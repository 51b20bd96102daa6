"""What client and server connections share: the receive path, EOF, errors, switches.

The engine calls back into the connection (the sink); the connection applies policy and
queues events. Errors are queued behind the events that came before them, so nothing a
peer sent correctly is lost when later bytes are rejected.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from ._engines import resolve_engine
from ._engines._base import RequestEngine, ResponseEngine
from ._errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from ._events import NEED_DATA, PAUSED, ConnectionClosed, Data, Event, Sentinel
from ._framing import BodyWriter, Framing
from ._limits import Limits

__all__ = ["Connection"]


class Connection:
    """Base class of ``ServerConnection`` and ``ClientConnection``."""

    _parser: RequestEngine | ResponseEngine

    def __init__(self, *, engine: str | None = None, limits: Limits | None = None) -> None:
        self.limits = limits if limits is not None else Limits()
        self.engine = resolve_engine(engine)
        self._events: deque[Event] = deque()
        self._error: ProtocolError | None = None
        self._eof = False
        self._switch_pending = False
        self._switched = False
        self._held = bytearray()  # bytes past a (proposed) protocol switch
        self._held_eof = False
        self._body_bytes = 0
        self._writer: BodyWriter | None = None
        self._must_close = False
        self._framing_run = 0  # bytes in a row, inside a message, that made no event

    # -- receiving -------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Give the connection bytes from the peer; ``b""`` means the peer closed (EOF)."""
        if self._error is not None:
            return  # the peer is being hung up on; what it sends now is moot
        if self._switch_pending or self._switched:
            if data:
                self._hold(data)
            else:
                self._held_eof = True
            return
        if not data:
            if not self._eof:
                self._receive_eof()
            return
        if self._eof:
            raise LocalProtocolError("receive_data() called with data after EOF")
        self._feed(data)

    def _feed(self, data: bytes) -> None:
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
        elif self._parser.in_message:
            self._count_framing(len(data))

    def _count_framing(self, size: int) -> None:
        """Bound bytes inside a message that carry no data: chunk lines, extensions,
        trailers (and a head, which the engines bound already).

        llhttp neither limits a chunk extension nor a trailer field spanning reads (it
        buffers the field: memory), so a peer could stream either forever. Reads that
        produce no event add up here, bounded like a head (RFC 9112 7.1.1 lets a
        recipient limit extensions; Node's CVE-2024-22019 is the same issue).
        """
        self._framing_run += size
        if self._framing_run > self.limits.max_head_size:
            self._error = RemoteProtocolError("chunk framing or trailers are too large")

    def _parsing_stopped(self, leftover: bytes) -> None:
        """The engine stopped after a message (switch or last message); keep the rest."""
        self._hold(leftover)

    def _hold(self, data: bytes) -> None:
        """Keep bytes past a switch point. While the switch is only proposed, they are
        bounded by ``max_head_size``: the layer above should stop reading at ``PAUSED``."""
        self._held += data
        if self._switch_pending and len(self._held) > self.limits.max_head_size:
            self._error = RemoteProtocolError(
                "too much data before the protocol switch was answered"
            )

    def _receive_eof(self) -> None:
        self._eof = True
        if self._parser.in_message:
            self._error = RemoteProtocolError(
                "the peer closed the connection in the middle of a message"
            )
        else:
            self._events.append(ConnectionClosed())

    def next_event(self) -> Event | Sentinel:
        """The next event; ``NEED_DATA`` or ``PAUSED`` when none is ready.

        Raises ``RemoteProtocolError`` once every event before the bad input was taken.
        """
        events = self._events
        if events:
            return events.popleft()
        if self._error is not None:
            raise self._error
        if self._eof:
            return ConnectionClosed()
        if self._switch_pending or self._switched:
            return PAUSED
        return NEED_DATA

    def events(self) -> Iterator[Event]:
        """Every event ready now (stops at ``NEED_DATA``/``PAUSED``)."""
        while True:
            event = self.next_event()
            if isinstance(event, Sentinel):
                return
            yield event
            if type(event) is ConnectionClosed:
                return

    def on_data(self, data: bytes) -> None:
        limit = self.limits.max_body_size
        if limit is not None:
            self._body_bytes += len(data)
            if self._body_bytes > limit:
                raise RemoteProtocolError("message body is too large", status_hint=413)
        self._events.append(Data(data))

    def _check_declared_length(self, length: int | None) -> None:
        limit = self.limits.max_body_size
        if limit is not None and length is not None and length > limit:
            raise RemoteProtocolError("message body is too large", status_hint=413)

    # -- protocol switches -----------------------------------------------------------

    @property
    def switched(self) -> bool:
        """Whether HTTP is over on this connection (101 or a 2xx answer to CONNECT)."""
        return self._switched

    @property
    def trailing_data(self) -> tuple[bytes, bool]:
        """Bytes received after the switch point, and whether EOF followed them."""
        return bytes(self._held), self._held_eof

    def _switch(self) -> None:
        """Our answer switches protocols; refused if bytes past the switch were lost."""
        if self._error is not None:
            raise LocalProtocolError(f"cannot switch protocols: {self._error}")
        self._switch_pending = False
        self._switched = True

    def _resume_parsing(self) -> None:
        """A proposed switch was declined: parse the held bytes as HTTP again."""
        self._switch_pending = False
        held, self._held = bytes(self._held), bytearray()
        held_eof, self._held_eof = self._held_eof, False
        if held:
            self._feed(held)
        if held_eof:
            self.receive_data(b"")

    # -- sending ---------------------------------------------------------------------

    @property
    def must_close(self) -> bool:
        """Whether the connection is finished with HTTP and the transport should close."""
        return self._must_close

    def _send_body(self, data: bytes) -> bytes:
        writer = self._writer
        if writer is None:
            raise LocalProtocolError("no message is being sent: send a head first")
        return writer.data(data)

    @property
    def can_send_body_externally(self) -> bool:
        """Whether the body being sent goes to the wire as-is (Content-Length, or ended
        by closing), so the caller may write it itself, e.g. with zero-copy ``sendfile``,
        and report it with ``body_sent_externally``. False for chunked framing (each
        chunk needs its size line), for messages without a body and between messages."""
        writer = self._writer
        return writer is not None and (
            writer.framing is Framing.LENGTH or writer.framing is Framing.UNTIL_CLOSE
        )

    def body_sent_externally(self, count: int) -> None:
        """Account for ``count`` body bytes the caller wrote to the transport itself.

        Instead of ``send(Data(...))``, which would return the same bytes: the core then
        still knows how much of a Content-Length is left, so a body too long or short is
        refused as usual. ``LocalProtocolError`` if no body is being sent, if its framing
        is chunked (or it has no body and ``count`` is not 0), or if ``count`` exceeds
        what is left of its Content-Length; nothing is counted then.
        """
        writer = self._writer
        if writer is None:
            raise LocalProtocolError("no message is being sent: send a head first")
        writer.external(count)

    def _end_body(self, trailers: list[tuple[bytes, bytes]]) -> bytes:
        writer = self._writer
        if writer is None:
            raise LocalProtocolError("no message is being sent: send a head first")
        out = writer.end(trailers)
        self._writer = None
        return out
