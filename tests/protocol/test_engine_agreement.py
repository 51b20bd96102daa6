"""Engine disagreements found by the properties in ``test_properties``, each pinned down.

Every test feeds explicit bytes to every engine and states the one outcome they must
all reach; the minimal input is kept so a regression names its cause at once.
"""

from __future__ import annotations

import pytest

from treadle.protocol import (
    ConnectionClosed,
    Data,
    EndOfMessage,
    InformationalResponse,
    Limits,
    Request,
    Response,
)

from ._drive import ENGINES, Outcome, parse_requests, parse_responses

engines = pytest.mark.parametrize("engine", ENGINES)


def requests(raw: bytes, engine: str, *, eof: bool = True) -> Outcome:
    """Parse ``raw`` whole and byte by byte; both must agree."""
    whole = parse_requests([raw], engine, eof=eof)
    trickled = parse_requests([raw[i : i + 1] for i in range(len(raw))], engine, eof=eof)
    assert trickled.key() == whole.key()
    return whole


def responses(raw: bytes, engine: str, **kwargs: object) -> Outcome:
    return parse_responses(raw, engine, step=len(raw) or 1, **kwargs)  # type: ignore[arg-type]


def refused(outcome: Outcome, status: int = 400) -> bool:
    return outcome.error is not None and outcome.error.status_hint == status


# -- field values reach the events as sent --------------------------------------------


@engines
def test_transfer_coding_keeps_its_case(engine: str) -> None:
    # h11 lower-cased Transfer-Encoding values; llhttp reports them as sent.
    raw = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
    outcome = requests(raw, engine)
    assert outcome.error is None
    assert outcome.events == [
        Request(b"POST", b"/", [(b"Host", b"a"), (b"Transfer-Encoding", b"Chunked")]),
        Data(b"x"),
        EndOfMessage(),
        ConnectionClosed(),
    ]


# -- framing fields -------------------------------------------------------------------


@engines
@pytest.mark.parametrize(
    "field",
    [
        b"Content-Length: 1, 1",  # h11 merged the list into one value
        b"Content-Length: 1\r\nContent-Length: 1",  # ... and equal repeats into one field
    ],
)
def test_content_length_lists_and_repeats_are_refused(engine: str, field: bytes) -> None:
    raw = b"POST / HTTP/1.1\r\nHost: a\r\n" + field + b"\r\n\r\nx"
    assert refused(requests(raw, engine))


@engines
@pytest.mark.parametrize(
    "field",
    [
        b"Transfer-Encoding: chunked, chunked",
        b"Transfer-Encoding: CHUNKED, Chunked",
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
        b"Transfer-Encoding: deflate, chunked, chunked",
    ],
)
def test_chunked_applied_twice_is_refused_with_400(engine: str, field: bytes) -> None:
    # llhttp refuses with 400; h11 (and then the core) answered 501 "unsupported".
    raw = b"POST / HTTP/1.1\r\nHost: a\r\n" + field + b"\r\n\r\n0\r\n\r\n"
    assert refused(requests(raw, engine))
    response = b"HTTP/1.1 200 OK\r\n" + field + b"\r\n\r\n0\r\n\r\n"
    assert refused(responses(response, engine, eof=True))


@engines
@pytest.mark.parametrize(
    "value", [b"chunked,", b"chunked ,", b"chunked, ,", b"gzip, chunked,", b",", b""]
)
def test_empty_transfer_coding_is_refused(engine: str, value: bytes) -> None:
    # llhttp refuses "chunked," in a request but reads a response so framed until
    # EOF, while the core took it for chunked: the two framings disagreed.
    raw = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + value + b"\r\n\r\n0\r\n\r\n"
    assert refused(requests(raw, engine))
    response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + value + b"\r\n\r\n0\r\n\r\n"
    outcome = responses(response, engine, eof=True)
    assert refused(outcome)
    assert outcome.events == []


# -- request lines --------------------------------------------------------------------


@engines
@pytest.mark.parametrize("line", [b"ET / HTTP/1.1", b"FOO / HTTP/1.1", b"G\x00T / HTTP/1.1"])
def test_unknown_method_is_refused_with_400(engine: str, line: bytes) -> None:
    # llhttp cannot tell an unknown method from a garbled line; the lexer said 501.
    assert refused(requests(line + b"\r\nHost: a\r\n\r\n", engine))


@engines
@pytest.mark.parametrize("blank", [b"\r\n", b"\n", b"\r", b"\r\r", b"\n\n\n", b"\r\n\r\n"])
def test_cr_and_lf_before_a_request_line_are_skipped(engine: str, blank: bytes) -> None:
    # llhttp skips any run of CR and LF before a start line; the lexer only CRLF pairs,
    # so a bare LF between pipelined requests was accepted by one engine only.
    get = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    outcome = requests(blank + get + blank + get + blank, engine)
    assert outcome.error is None
    request = Request(b"GET", b"/", [(b"Host", b"a")])
    assert outcome.events == [request, EndOfMessage(), request, EndOfMessage(), ConnectionClosed()]


@engines
@pytest.mark.parametrize("blank", [b"\r\n", b"\n", b"\r"])
def test_cr_and_lf_before_a_status_line_are_skipped(engine: str, blank: bytes) -> None:
    outcome = responses(blank + b"HTTP/1.1 204 No Content\r\n\r\n", engine, eof=True)
    assert outcome.error is None
    assert outcome.events == [
        Response(204, [], b"No Content"),
        EndOfMessage(),
        ConnectionClosed(),
    ]


@engines
@pytest.mark.parametrize("blank", [b"\r\n", b"\r\n\r\n", b"\n"])
def test_cr_and_lf_before_the_answer_to_head_are_skipped(engine: str, blank: bytes) -> None:
    # The httptools engine cuts heads of answers to HEAD out of the stream itself, and
    # took leading CRLF for an empty head.
    outcome = responses(blank + b"HTTP/1.1 200 OK\r\n\r\n", engine, method=b"HEAD", eof=True)
    assert outcome.error is None
    assert outcome.events == [Response(200, [], b"OK"), EndOfMessage(), ConnectionClosed()]


@engines
@pytest.mark.parametrize("value", [b"chunked\t", b"chunked \t", b"chunked\t "])
def test_htab_after_chunked_is_refused(engine: str, value: bytes) -> None:
    # llhttp reads "chunked<HTAB>" as an unknown coding: it refused the request but read
    # the response to EOF, while h11 and the core took both for chunked.
    raw = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + value + b"\r\n\r\n0\r\n\r\n"
    assert refused(requests(raw, engine))
    response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + value + b"\r\n\r\n0\r\n\r\n"
    outcome = responses(response, engine, eof=True)
    assert refused(outcome)
    assert outcome.events == []


@engines
@pytest.mark.parametrize("value", [b"chunked ", b" chunked", b"\tchunked"])
def test_other_whitespace_around_chunked_is_fine(engine: str, value: bytes) -> None:
    raw = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:" + value + b"\r\n\r\n0\r\n\r\n"
    outcome = requests(raw, engine)
    assert outcome.error is None
    assert outcome.events[0] == Request(
        b"POST", b"/", [(b"Host", b"a"), (b"Transfer-Encoding", b"chunked")]
    )


# -- trailers -------------------------------------------------------------------------


@engines
@pytest.mark.parametrize(
    "trailer",
    [
        b"Content-Length: 0",  # llhttp refused it, h11 accepted it
        b"content-length: 5",
        b"Transfer-Encoding: chunked",  # llhttp refused it in requests only
        b"Transfer-Encoding: gzip",
        b"Connection: close",  # llhttp closed the connection, unknown to the core
    ],
)
def test_framing_and_connection_trailers_are_refused(engine: str, trailer: bytes) -> None:
    body = b"\r\n\r\n1\r\nx\r\n0\r\n" + trailer + b"\r\n\r\n"
    get = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    outcome = requests(
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked" + body + get, engine
    )
    assert refused(outcome)
    assert outcome.events[1:] == [Data(b"x")]
    outcome = responses(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked" + body, engine)
    assert refused(outcome)
    assert outcome.events[1:] == [Data(b"x")]


@engines
def test_other_trailers_are_kept(engine: str) -> None:
    raw = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nHost: b\r\n\r\n"
    outcome = requests(raw, engine)
    assert outcome.error is None
    assert outcome.events[1] == EndOfMessage([(b"Host", b"b")])


# -- persistence ----------------------------------------------------------------------


@engines
def test_proxy_connection_close_closes(engine: str) -> None:
    # llhttp honours Proxy-Connection like Connection; the core ignored it, so with
    # httptools a pipelined request after it was refused and with h11 it was served.
    get = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    raw = b"GET / HTTP/1.1\r\nHost: a\r\nProxy-Connection: close\r\n\r\n" + get
    outcome = requests(raw, engine)
    assert refused(outcome)
    assert len(outcome.events) == 2


@engines
def test_proxy_connection_keep_alive_keeps_an_http_1_0_connection(engine: str) -> None:
    raw = b"GET / HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n"
    outcome = requests(raw, engine)
    assert outcome.error is None
    assert len(outcome.events) == 5


@engines
def test_proxy_connection_upgrade_switches(engine: str) -> None:
    raw = b"GET / HTTP/1.1\r\nHost: a\r\nProxy-Connection: upgrade\r\nUpgrade: x\r\n\r\n"
    outcome = requests(raw + b"\x81\x00", engine)
    assert outcome.error is None
    assert outcome.paused


# -- interim responses ----------------------------------------------------------------


@engines
@pytest.mark.parametrize("method", [b"GET", b"HEAD"])
def test_eof_after_an_interim_response_is_an_error(engine: str, method: bytes) -> None:
    # The final response is still owed; h11 (and httptools after HEAD) said
    # ConnectionClosed as if the exchange had ended.
    outcome = responses(b"HTTP/1.1 100 Continue\r\n\r\n", engine, method=method, eof=True)
    assert refused(outcome)
    assert outcome.events == [InformationalResponse(100, [], b"Continue")]


@engines
@pytest.mark.parametrize("method", [b"GET", b"HEAD"])
@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n",
        b"HTTP/1.1 103 Early Hints\r\nProxy-Connection: close\r\n\r\n",
        b"HTTP/1.0 100 Continue\r\n\r\n",
    ],
)
def test_interim_response_that_closes_is_refused(engine: str, method: bytes, head: bytes) -> None:
    # llhttp ends the connection after such an interim response and refused the final
    # response; h11 read on. Both now refuse the interim response itself.
    raw = head + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    outcome = responses(raw, engine, method=method, eof=True)
    assert refused(outcome)
    assert outcome.events == []


# -- sizes ----------------------------------------------------------------------------


@engines
@pytest.mark.parametrize(
    "length", [b"1000000000000000000", b"18446744073709551615", b"18446744073709551616"]
)
def test_huge_content_length_is_413(engine: str, length: bytes) -> None:
    # llhttp reports a length past 64 bits as a 400 "overflow"; the core says 413.
    raw = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + length + b"\r\n\r\n"
    assert refused(requests(raw, engine), 413)


# -- after the last message -----------------------------------------------------------


@engines
@pytest.mark.parametrize("tail", [b"\r\n", b"\n", b"\r", b"\r\r\n\n"])
def test_cr_and_lf_after_a_closing_request_are_skipped(engine: str, tail: bytes) -> None:
    # llhttp skips them; the h11 engine stopped and the core called them "data after
    # Connection: close", but only when they came in the same receive_data call.
    raw = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    outcome = requests(raw + tail, engine)
    assert outcome.error is None
    assert outcome.events[-1] == ConnectionClosed()


@engines
@pytest.mark.parametrize("tail", [b"x", b"\r\nx", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"])
def test_anything_else_after_a_closing_request_is_refused_at_once(engine: str, tail: bytes) -> None:
    # At once: without EOF, and before a line end (the h11 engine waited for one).
    raw = b"GET / HTTP/1.0\r\n\r\n"
    outcome = requests(raw + tail, engine, eof=False)
    assert refused(outcome)
    assert len(outcome.events) == 2


@engines
@pytest.mark.parametrize("method", [b"GET", b"HEAD"])
@pytest.mark.parametrize("tail", [b"\r\n", b"\n\r\n"])
def test_cr_and_lf_after_a_response_are_skipped(engine: str, method: bytes, tail: bytes) -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" + tail
    outcome = responses(raw, engine, method=method, eof=True)
    assert outcome.error is None
    assert outcome.events == [
        Response(200, [(b"Content-Length", b"0")], b"OK"),
        EndOfMessage(),
        ConnectionClosed(),
    ]


# -- which fault is reported first ----------------------------------------------------


@engines
@pytest.mark.parametrize(
    ("fields", "status"),
    [
        # llhttp checks framing fields at their line, in order: the first fault wins.
        ([b"Transfer-Encoding: chunked", b"Content-Length: 18446744073709551616"], 400),
        ([b"Content-Length: 18446744073709551616", b"Transfer-Encoding: chunked"], 413),
        ([b"Content-Length: 1000000000000000000", b"Transfer-Encoding: chunked"], 400),
        ([b"Content-Length: 1", b"Content-Length: 1000000000000000000"], 400),
        ([b"Content-Length: 18446744073709551616", b"X: \x01"], 413),
    ],
)
def test_first_framing_fault_sets_the_status(engine: str, fields: list[bytes], status: int) -> None:
    head = b"\r\n".join(fields) + b"\r\n\r\n"
    assert refused(requests(b"POST / HTTP/1.1\r\nHost: a\r\n" + head, engine), status)
    assert refused(responses(b"HTTP/1.1 200 OK\r\n" + head, engine, eof=True), status)


@engines
@pytest.mark.parametrize("line", [b"GET /", b"PATCH /x", b"OPTIONS *", b"GET  /"])
def test_request_line_without_a_version_is_505(engine: str, line: bytes) -> None:
    # llhttp reads it as HTTP/0.9 (and the core answers 505); the lexer said 400.
    assert refused(requests(line + b"\r\nHost: a\r\n\r\n", engine), 505)


@pytest.mark.parametrize(
    ("extension", "accepted"),
    [
        (b";=0", True),
        (b";=", True),
        (b";;a", True),
        (b";a=", True),
        (b';="x"', True),
        (b";=0;=1", True),
        (b";==0", False),
        (b"; a", False),
        (b";a;", False),
        (b";a=b=c", False),
        (b";a=b;", False),
        (b";", False),
    ],
)
def test_chunk_extension_grammar_is_llhttps(extension: bytes, accepted: bool) -> None:
    """Found by the differential property: llhttp accepts empty extension names."""
    data = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1" + extension
    data += b"\r\nx\r\n0\r\n\r\n"
    for engine in ENGINES:
        outcome = parse_requests([data], engine, eof=True)
        assert (outcome.error is None) is accepted, (engine, outcome)


# -- start line lengths ---------------------------------------------------------------

LIMIT = Limits().max_line_size


def _request_line(method: bytes, size: int) -> bytes:
    line = method + b" /" + b"a" * (size - len(method) - len(b" / HTTP/1.1")) + b" HTTP/1.1"
    assert len(line) == size
    return line


@engines
@pytest.mark.parametrize("method", [b"GET", b"DELETE", b"M-SEARCH"])
def test_request_line_limit_is_the_whole_line(engine: str, method: bytes) -> None:
    # Measured from the method to the version (without CRLF), however the line arrives.
    head = b"\r\nHost: a\r\n\r\n"
    fits = requests(_request_line(method, LIMIT) + head, engine)
    assert fits.error is None
    assert [type(event) for event in fits.events] == [Request, EndOfMessage, ConnectionClosed]
    over = requests(_request_line(method, LIMIT + 1) + head, engine)
    assert refused(over, 414)
    assert over.events == []


@engines
@pytest.mark.parametrize("limit", [64, 100])
def test_request_line_limit_follows_limits(engine: str, limit: int) -> None:
    head = b"\r\nHost: a\r\n\r\n"
    limits = Limits(max_line_size=limit)
    fits = parse_requests([_request_line(b"GET", limit) + head], engine, eof=True, limits=limits)
    assert fits.error is None
    over = parse_requests([_request_line(b"GET", limit + 1) + head], engine, limits=limits)
    assert refused(over, 414)


@engines
@pytest.mark.parametrize(
    ("size", "status"), [(LIMIT - 9, 505), (LIMIT - 8, 414), (LIMIT, 414), (LIMIT + 1, 414)]
)
def test_request_line_without_a_version_near_the_limit(engine: str, size: int, status: int) -> None:
    # llhttp reports no more than method and target before it has seen the version, so
    # a line is measured as if it had one: within 8 bytes of the limit, a line without a
    # version (refused anyway, with 505 when shorter) is 414 on both engines.
    line = b"GET /" + b"a" * (size - 5)
    assert refused(requests(line + b"\r\nHost: a\r\n\r\n", engine), status)


@engines
def test_status_line_limit_is_the_whole_line(engine: str) -> None:
    # The httptools engine limited only the reason: lines up to limit + 13 got through.
    start = b"HTTP/1.1 200 "
    tail = b"\r\nContent-Length: 0\r\n\r\n"
    for method in (b"GET", b"HEAD"):  # an answer to HEAD is parsed on its own path
        for step in (None, 1):
            raw = start + b"a" * (LIMIT - len(start)) + tail
            fits = parse_responses(raw, engine, method=method, step=step or len(raw), eof=True)
            assert fits.error is None, (method, step)
            assert len(fits.events[0].reason) == LIMIT - len(start)  # type: ignore[attr-defined]
            raw = start + b"a" * (LIMIT + 1 - len(start)) + tail
            over = parse_responses(raw, engine, method=method, step=step or len(raw), eof=True)
            assert refused(over, 400), (method, step)
            assert "status line is too long" in str(over.error)
            assert over.events == []


# -- reason phrases -------------------------------------------------------------------


@engines
@pytest.mark.parametrize("method", [b"GET", b"HEAD"])
@pytest.mark.parametrize(
    "reason", [b"O\x00K", b"\x01OK", b"OK\x08", b"Not\x0bFound", b"x\x1b[31m", b"OK\x7f"]
)
def test_control_bytes_in_a_reason_are_refused(engine: str, method: bytes, reason: bytes) -> None:
    # RFC 9112 4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ); llhttp let them by.
    raw = b"HTTP/1.1 200 " + reason + b"\r\nContent-Length: 0\r\n\r\n"
    for step in (len(raw), 1):
        outcome = parse_responses(raw, engine, method=method, step=step, eof=True)
        assert refused(outcome, 400), (step, outcome)
        assert "reason phrase" in str(outcome.error)
        assert outcome.events == []


@engines
@pytest.mark.parametrize("reason", [b"OK", b"Not Found", b"O\tK", b"\x80\xff caf\xc3\xa9", b"~!"])
def test_other_reasons_are_kept(engine: str, reason: bytes) -> None:
    raw = b"HTTP/1.1 200 " + reason + b"\r\nContent-Length: 0\r\n\r\n"
    outcome = responses(raw, engine, eof=True)
    assert outcome.error is None
    assert outcome.events == [
        Response(200, [(b"Content-Length", b"0")], reason),
        EndOfMessage(),
        ConnectionClosed(),
    ]
