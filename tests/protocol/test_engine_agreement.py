"""Engine disagreements found by the properties in ``test_properties``, each pinned down.

Every test feeds explicit bytes to every engine and states the one outcome they must
all reach; the minimal input is kept so a regression names its cause at once.
"""

from __future__ import annotations

import pytest

from treadle.protocol import ConnectionClosed, Data, EndOfMessage, Request, Response

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
