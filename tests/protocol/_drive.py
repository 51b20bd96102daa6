"""Helpers that drive a protocol connection over bytes and collect what it says."""

from __future__ import annotations

from collections.abc import Iterable

from treadle.protocol import (
    PAUSED,
    ClientConnection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    RemoteProtocolError,
    Request,
    Sentinel,
    ServerConnection,
)
from treadle.protocol import available_engines as _available

ENGINES = _available()


class Outcome:
    """Events (adjacent Data merged) and the error that ended parsing, if any."""

    def __init__(self, events: list[Event], error: RemoteProtocolError | None, paused: bool):
        self.events = events
        self.error = error
        self.paused = paused

    def key(self) -> tuple[object, ...]:
        error = None if self.error is None else self.error.status_hint
        return (self.events, error, self.paused)

    def __repr__(self) -> str:
        return f"Outcome(events={self.events!r}, error={self.error!r}, paused={self.paused})"


def merge_data(events: Iterable[Event]) -> list[Event]:
    merged: list[Event] = []
    for event in events:
        if type(event) is Data and merged and type(merged[-1]) is Data:
            merged[-1] = Data(merged[-1].data + event.data)  # type: ignore[attr-defined]
        else:
            merged.append(event)
    return merged


def parse_requests(
    chunks: Iterable[bytes], engine: str, *, eof: bool = False, **kwargs: object
) -> Outcome:
    """Feed a server connection; pipelined requests are all read without answering."""
    conn = ServerConnection(engine=engine, **kwargs)  # type: ignore[arg-type]
    events: list[Event] = []
    error: RemoteProtocolError | None = None
    pieces = list(chunks) + ([b""] if eof else [])
    paused = False
    try:
        for piece in pieces:
            conn.receive_data(piece)
            paused = _drain(conn, events)
    except RemoteProtocolError as exc:
        error = exc
    return Outcome(merge_data(events), error, paused)


def _drain(conn: ServerConnection | ClientConnection, into: list[Event]) -> bool:
    """Move every ready event into ``into``; return whether the connection is PAUSED."""
    while True:
        event = conn.next_event()
        if isinstance(event, Sentinel):
            return event is PAUSED
        into.append(event)
        if type(event) is ConnectionClosed:
            return False


def parse_responses(
    data: bytes,
    engine: str,
    *,
    method: bytes = b"GET",
    eof: bool = False,
    step: int = 1,
    upgrade: bool = False,
) -> Outcome:
    """Feed a client connection ``step`` bytes at a time, sending the next request
    whenever the previous exchange is over (sequential responses, as a client reads them)."""
    conn = ClientConnection(engine=engine)
    events: list[Event] = []
    error: RemoteProtocolError | None = None
    try:
        for offset in range(0, len(data), step):
            if conn.is_idle:
                headers = [(b"Host", b"corpus.test")]
                if upgrade:
                    headers += [(b"Connection", b"upgrade"), (b"Upgrade", b"example")]
                conn.send(Request(method, b"/", headers))
                conn.send(EndOfMessage())
            if conn.switched:
                break
            conn.receive_data(data[offset : offset + step])
            _drain(conn, events)
        if eof and not conn.switched:
            conn.receive_data(b"")
            _drain(conn, events)
    except RemoteProtocolError as exc:
        error = exc
    return Outcome(merge_data(events), error, conn.switched)
