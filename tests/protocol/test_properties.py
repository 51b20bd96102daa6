"""Hypothesis properties of the protocol core, run on every engine.

1. chunk-split invariance: how bytes are cut into ``receive_data`` calls never changes
   the events or whether (and with what status hint) the input is refused;
2. round trip: what one side sends, the other side parses back to the same events;
3. robustness: any bytes either parse or raise ``RemoteProtocolError``, nothing else;
4. differential: both engines reach identical outcomes on the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from treadle.protocol import (
    ClientConnection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    Headers,
    InformationalResponse,
    RemoteProtocolError,
    Request,
    Response,
    Sentinel,
    ServerConnection,
)

from ._drive import ENGINES, Outcome, merge_data, parse_requests
from ._strategies import (
    METHODS,
    ResponseCase,
    extra_fields,
    field_values,
    header_names,
    mutated,
    pipelined_requests,
    response_sequences,
    split,
    targets,
)

# Budgets that keep the whole file well under 20 s; TREADLE_PROPERTY_SCALE=10 (say)
# multiplies them for a longer hunt. No deadline: timing varies on shared CI machines.
_SCALE = float(os.environ.get("TREADLE_PROPERTY_SCALE", "1"))
FAST = settings(
    max_examples=max(1, int(30 * _SCALE)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SLOW = settings(
    max_examples=max(1, int(60 * _SCALE)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

engines = pytest.mark.parametrize("engine", ENGINES)
needs_two_engines = pytest.mark.skipif(len(ENGINES) < 2, reason="only one engine installed")


# -- drivers --------------------------------------------------------------------------


def _drain(conn: ServerConnection | ClientConnection, into: list[Event]) -> None:
    while True:
        event = conn.next_event()
        if isinstance(event, Sentinel):
            return
        into.append(event)
        if type(event) is ConnectionClosed:
            return


def read_responses(
    exchanges: Iterable[tuple[bytes, list[bytes]]], engine: str, *, eof: bool = True
) -> Outcome:
    """A client that sends a request with the given method whenever it is idle and
    then receives that response's pieces; EOF at the end."""
    conn = ClientConnection(engine=engine)
    events: list[Event] = []
    error: RemoteProtocolError | None = None
    try:
        for method, pieces in exchanges:
            if conn.is_idle:
                conn.send(Request(method, b"/", [(b"Host", b"example.test")]))
                conn.send(EndOfMessage())
            for piece in pieces:
                conn.receive_data(piece)
                _drain(conn, events)
        if eof:
            conn.receive_data(b"")
            _drain(conn, events)
    except RemoteProtocolError as exc:
        error = exc
    return Outcome(merge_data(events), error, conn.switched)


def _pieces(raw: bytes) -> list[bytes]:
    """``raw`` as one piece; no piece at all when empty (``b""`` would mean EOF)."""
    return [raw] if raw else []


def _expected_responses(cases: list[ResponseCase]) -> list[Event]:
    return [event for case in cases for event in case.events] + [ConnectionClosed()]


# -- 1. chunk-split invariance --------------------------------------------------------


@engines
@SLOW
@given(data=st.data())
def test_requests_parse_to_their_events_however_split(engine: str, data: st.DataObject) -> None:
    case = data.draw(pipelined_requests())
    pieces = data.draw(split(case.data))
    whole = parse_requests([case.data], engine, eof=True)
    assert whole.error is None, whole
    assert whole.events == [*case.events, ConnectionClosed()]
    assert parse_requests(pieces, engine, eof=True).key() == whole.key()


@engines
@SLOW
@given(data=st.data())
def test_responses_parse_to_their_events_however_split(engine: str, data: st.DataObject) -> None:
    cases = data.draw(response_sequences())
    whole = read_responses([(case.method, [case.data]) for case in cases], engine)
    assert whole.error is None, whole
    assert whole.events == _expected_responses(cases)
    exchanges = [(case.method, data.draw(split(case.data))) for case in cases]
    assert read_responses(exchanges, engine).key() == whole.key()


@engines
@SLOW
@given(data=st.data())
def test_mutated_requests_give_one_outcome_however_split(engine: str, data: st.DataObject) -> None:
    raw = data.draw(mutated(data.draw(pipelined_requests()).data))
    pieces = data.draw(split(raw))
    for eof in (False, True):
        whole = parse_requests(_pieces(raw), engine, eof=eof)
        assert parse_requests(pieces, engine, eof=eof).key() == whole.key()


@engines
@SLOW
@given(data=st.data())
def test_mutated_responses_give_one_outcome_however_split(engine: str, data: st.DataObject) -> None:
    case = data.draw(response_sequences(max_count=1))[0]
    raw = data.draw(mutated(case.data))
    pieces = data.draw(split(raw))
    for eof in (False, True):
        whole = read_responses([(case.method, _pieces(raw))], engine, eof=eof)
        assert read_responses([(case.method, pieces)], engine, eof=eof).key() == whole.key()


# -- 2. send, then receive ------------------------------------------------------------


@st.composite
def outgoing_requests(draw: st.DrawFn) -> tuple[Request, list[bytes], Headers]:
    """A request a client may send: the head, its body pieces and its trailers."""
    version = draw(st.sampled_from((b"1.1", b"1.1", b"1.0")))
    method = draw(st.sampled_from(METHODS))
    headers = [(b"Host", b"example.test"), *draw(extra_fields)]
    pieces = draw(st.lists(st.binary(max_size=32), max_size=3))
    trailers: Headers = []
    framing = draw(st.sampled_from(("none", "length", "chunked" if version == b"1.1" else "none")))
    if framing == "none":
        pieces = []
    elif framing == "length":
        headers.append((b"Content-Length", b"%d" % sum(map(len, pieces))))
    else:
        headers.append((b"Transfer-Encoding", b"chunked"))
        trailers = draw(st.lists(st.tuples(header_names, field_values()), max_size=2))
    if version == b"1.0" and draw(st.booleans()):
        headers.append((b"Connection", b"keep-alive"))
    elif draw(st.integers(0, 4)) == 0:
        headers.append((b"Connection", b"close"))
    return Request(method, draw(targets(method)), headers, version), pieces, trailers


@st.composite
def outgoing_responses(
    draw: st.DrawFn,
) -> tuple[list[InformationalResponse], Response, list[bytes], Headers]:
    interim = [
        InformationalResponse(status, draw(extra_fields))
        for status in draw(st.lists(st.sampled_from((100, 102, 103)), max_size=2))
    ]
    status = draw(st.one_of(st.sampled_from((200, 204, 304, 404)), st.integers(200, 599)))
    reason = draw(st.sampled_from((b"", b"", b"Fine", b"Very Well Indeed")))
    headers = draw(extra_fields)
    pieces = draw(st.lists(st.binary(max_size=32), max_size=3))
    framing = draw(st.sampled_from(("auto", "length", "chunked")))
    if framing == "length":
        headers.append((b"Content-Length", b"%d" % sum(map(len, pieces))))
    elif framing == "chunked":
        headers.append((b"Transfer-Encoding", b"chunked"))
    if draw(st.booleans()):
        headers.append((b"Connection", b"close"))
    trailers = draw(st.lists(st.tuples(header_names, field_values()), max_size=2))
    return interim, Response(status, headers, reason), pieces, trailers


_ADDED_BY_SERVER = [
    (b"Transfer-Encoding", b"chunked"),
    (b"Connection", b"close"),
    (b"Connection", b"keep-alive"),
]


def _body_and_end(events: list[Event]) -> tuple[bytes, Headers]:
    data = b"".join(event.data for event in events if type(event) is Data)  # type: ignore[attr-defined]
    ends = [event for event in events if type(event) is EndOfMessage]
    assert len(ends) == 1, events
    return data, ends[0].headers


@engines
@FAST
@given(data=st.data())
def test_what_is_sent_parses_back(engine: str, data: st.DataObject) -> None:
    client = ClientConnection(engine=engine)
    server = ServerConnection(engine=engine)
    for _ in range(data.draw(st.integers(1, 3))):
        if not client.is_idle:
            break
        request, pieces, trailers = data.draw(outgoing_requests())
        wire = client.send(request)
        wire += b"".join(client.send(Data(piece)) for piece in pieces)
        wire += client.send(EndOfMessage(trailers))
        server.receive_data(wire)
        received: list[Event] = list(server.events())
        assert received[0] == request
        body, got_trailers = _body_and_end(received[1:])
        assert body == b"".join(pieces)
        assert got_trailers == trailers

        interim, response, body_pieces, trailers = data.draw(outgoing_responses())
        no_body = request.method == b"HEAD" or response.status_code in (204, 304)
        if no_body:
            body_pieces = []
            response.headers = [
                (n, v) for n, v in response.headers if n.lower() != b"content-length"
            ]
        names = {name.lower() for name, _ in response.headers}
        # Trailers go only where the server frames the body as chunked: asked for, or
        # chosen because there is no Content-Length; never towards HTTP/1.0 (RFC 9112
        # 6.1), where the server drops Transfer-Encoding and closes instead.
        http10 = request.http_version == b"1.0"
        chunked = (
            not no_body
            and not http10
            and (b"transfer-encoding" in names or b"content-length" not in names)
        )
        if not chunked:
            trailers = []
        wire = b"".join(server.send(event) for event in interim)
        wire += server.send(response)
        wire += b"".join(server.send(Data(piece)) for piece in body_pieces)
        wire += server.send(EndOfMessage(trailers))
        client.receive_data(wire)
        if server.must_close:
            client.receive_data(b"")
        answer = [event for event in client.events() if type(event) is not ConnectionClosed]
        got_interim = answer[: len(interim)]
        assert [(e.status_code, e.headers) for e in got_interim] == [  # type: ignore[attr-defined]
            (e.status_code, e.headers) for e in interim
        ]
        head = answer[len(interim)]
        assert type(head) is Response
        assert head.status_code == response.status_code
        if response.reason:
            assert head.reason == response.reason
        sent = response.headers
        if http10:
            sent = [(n, v) for n, v in sent if n.lower() != b"transfer-encoding"]
        assert head.headers[: len(sent)] == sent
        assert all(item in _ADDED_BY_SERVER for item in head.headers[len(sent) :])
        body, got_trailers = _body_and_end(answer[len(interim) + 1 :])
        assert body == b"".join(body_pieces)
        assert got_trailers == trailers
        if server.must_close:
            break


# -- 3. any bytes parse or are refused ------------------------------------------------


def _refused_or_parsed(outcome: Outcome) -> None:
    """Reaching here means no exception but ``RemoteProtocolError`` escaped."""
    assert outcome.error is None or isinstance(outcome.error, RemoteProtocolError)
    if outcome.error is not None:
        assert 400 <= outcome.error.status_hint < 600


@engines
@SLOW
@given(raw=st.binary(max_size=200), cut=st.integers(0, 200))
def test_any_bytes_are_parsed_or_refused(engine: str, raw: bytes, cut: int) -> None:
    pieces = [piece for piece in (raw[:cut], raw[cut:]) if piece]
    for eof in (False, True):
        _refused_or_parsed(parse_requests(pieces, engine, eof=eof))
        for method in (b"GET", b"HEAD", b"CONNECT"):
            _refused_or_parsed(read_responses([(method, pieces)], engine, eof=eof))


_START_LINES = (b"GET / HTTP/1.1\r\nHost: a\r\n", b"POST / HTTP/1.1\r\nHost: a\r\n")


@engines
@SLOW
@given(prefix=st.sampled_from(_START_LINES), raw=st.binary(max_size=120))
def test_any_bytes_after_a_request_line_are_parsed_or_refused(
    engine: str, prefix: bytes, raw: bytes
) -> None:
    _refused_or_parsed(parse_requests([prefix, *_pieces(raw)], engine, eof=True))
    response = b"HTTP/1.1 200 OK\r\n" + raw
    _refused_or_parsed(read_responses([(b"GET", [response])], engine, eof=True))


# -- 4. the engines agree -------------------------------------------------------------


def assert_engines_agree(run: Callable[[str, bool], Outcome]) -> None:
    """Once the input is complete (EOF) the engines reach the same events, error and
    status hint. While it is open they may notice a bad line at different times (llhttp
    byte by byte, the h11 lexer mostly line by line), so only the events must agree."""
    first, *others = (run(engine, True) for engine in ENGINES)
    for other in others:
        assert other.key() == first.key(), (first, other)
    first, *others = (run(engine, False) for engine in ENGINES)
    for other in others:
        assert other.events == first.events, (first, other)


@needs_two_engines
@FAST
@given(data=st.data())
def test_engines_agree_on_valid_messages(data: st.DataObject) -> None:
    case = data.draw(pipelined_requests())
    pieces = data.draw(split(case.data))
    assert_engines_agree(lambda engine, eof: parse_requests(pieces, engine, eof=eof))
    cases = data.draw(response_sequences())
    exchanges = [(case.method, data.draw(split(case.data))) for case in cases]
    assert_engines_agree(lambda engine, eof: read_responses(exchanges, engine, eof=eof))


@needs_two_engines
@SLOW
@given(data=st.data())
def test_engines_agree_on_mutated_requests(data: st.DataObject) -> None:
    raw = data.draw(mutated(data.draw(pipelined_requests()).data))
    pieces = data.draw(split(raw))
    assert_engines_agree(lambda engine, eof: parse_requests(pieces, engine, eof=eof))


@needs_two_engines
@SLOW
@given(data=st.data())
def test_engines_agree_on_mutated_responses(data: st.DataObject) -> None:
    case = data.draw(response_sequences(max_count=1))[0]
    raw = data.draw(mutated(case.data))
    pieces = data.draw(split(raw))
    assert_engines_agree(
        lambda engine, eof: read_responses([(case.method, pieces)], engine, eof=eof)
    )


@needs_two_engines
@SLOW
@given(prefix=st.sampled_from((b"", *_START_LINES)), raw=st.binary(max_size=120))
def test_engines_agree_on_any_bytes(prefix: bytes, raw: bytes) -> None:
    pieces = _pieces(prefix + raw)
    assert_engines_agree(lambda engine, eof: parse_requests(pieces, engine, eof=eof))
    response = _pieces(b"HTTP/1.1 200 OK\r\n" + raw if prefix else raw)
    for method in (b"GET", b"HEAD"):
        assert_engines_agree(
            lambda engine, eof, m=method: read_responses([(m, response)], engine, eof=eof)  # type: ignore[misc]
        )
