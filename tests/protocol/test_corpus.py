"""llhttp's own test cases (a copy of ../shared/corpus in data/), run through both engines.

Every request or response case llhttp rejects is rejected by treadle on each engine,
and every case llhttp accepts is accepted and parsed identically by both engines, with
the exceptions listed below, each with its reason.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ._drive import ENGINES, Outcome, parse_requests, parse_responses

CORPUS = Path(__file__).resolve().parent / "data" / "llhttp_cases.json"  # from ../shared/corpus

_UPGRADE_WITH_BODY = (
    "a CONNECT or Upgrade request with a body is refused: through httptools, llhttp "
    "would hand the body over as bytes of the new protocol"
)

# Cases treadle rejects although llhttp accepts them: deliberate policy.
REJECTED_BY_POLICY = {
    ("test/request/connection.md", "Emitting part of body and pausing"): _UPGRADE_WITH_BODY,
    ("test/request/connection.md", "Upgrade POST request"): _UPGRADE_WITH_BODY,
    ("test/request/method.md", "CONNECT with body"): _UPGRADE_WITH_BODY,
    ("test/request/method.md", "PRI request HTTP2"): "treadle speaks HTTP/1.1 only",
    ("test/request/sample.md", "No HTTP version"): "HTTP/0.9 request lines are refused",
    (
        "test/request/transfer-encoding.md",
        "POST with `chunked` as last transfer-encoding",
    ): "transfer codings other than chunked are answered 501 (RFC 9112 6.1)",
    (
        "test/request/transfer-encoding.md",
        "POST with `chunked` as last transfer-encoding (multiple headers)",
    ): "transfer codings other than chunked are answered 501 (RFC 9112 6.1)",
    (
        "test/response/transfer-encoding.md",
        "`chunked` before other transfer-encoding",
    ): "the client refuses transfer codings it cannot decode instead of reading to EOF",
    (
        "test/response/transfer-encoding.md",
        "multiple transfer-encoding where chunked is not the last one",
    ): "the client refuses transfer codings it cannot decode instead of reading to EOF",
    (
        "test/response/transfer-encoding.md",
        "`chunkedchunked` transfer-encoding does not enable chunked enconding",
    ): "the client refuses transfer codings it cannot decode instead of reading to EOF",
}

# Cases whose converted bytes carry the markdown that follows them in llhttp's sources,
# so what comes after the message is not HTTP: treadle rejects that tail.
CONVERSION_ARTEFACTS = {
    ("test/request/connection.md", "CRLF between requests, explicit `close`"),
    ("test/response/sample.md", "Google 301"),
}

# Cases llhttp rejects on a partial line or head that the corpus cuts off; treadle
# checks whole lines and heads, so it rejects them once the line or head is complete
# (the test appends the missing line ends and checks that).
REJECTED_WHEN_COMPLETE = {
    ("test/request/content-length.md", "Error on `Content-Length` overflow"),
    ("test/request/content-length.md", "Error on duplicate `Content-Length`"),
    (
        "test/request/content-length.md",
        "Error on simultaneous `Content-Length` and `Transfer-Encoding: identity`",
    ),
    ("test/request/content-length.md", "Spaces in `Content-Length` #2"),
    ("test/request/content-length.md", "Spaces in `Content-Length` #3"),
    ("test/request/content-length.md", "Empty `Content-Length`"),
    ("test/request/invalid.md", "Invalid HTTP version"),
    ("test/request/transfer-encoding.md", "Ignoring `pigeons`"),
    ("test/request/transfer-encoding.md", "Missing last-chunk"),
}

_REQUEST_LINE = re.compile(rb"(?m)^[A-Z][A-Z_-]* \S+ HTTP/1\.1\r$")


def _cases() -> list[Any]:
    cases = json.loads(CORPUS.read_text())
    selected = []
    for case in cases:
        if case["meta"]["type"] not in ("request", "response"):
            continue  # lenient modes: treadle has none
        raw = base64.b64decode(case["raw"])
        first_line = raw.lstrip(b"\r\n").split(b"\r\n", 1)[0]
        if b"RTSP/" in first_line or b"ICE/" in first_line:
            continue  # not HTTP
        selected.append(pytest.param(case, raw, id=f"{case['file'][5:-3]}::{case['name']}"))
    return selected


def with_host(raw: bytes) -> bytes:
    """llhttp does not require Host; treadle does (RFC 9112 3.2), so the cases that
    lack it get one after each HTTP/1.1 request line, and the missing-Host rule is
    tested on its own below."""
    if re.search(rb"\r\nhost:", raw, re.IGNORECASE):
        return raw
    return _REQUEST_LINE.sub(lambda m: m.group(0) + b"\nHost: corpus.test\r", raw)


def run(case: dict[str, Any], raw: bytes, engine: str, *, eof: bool = False) -> Outcome:
    if case["meta"]["type"] == "request":
        return parse_requests([with_host(raw)], engine, eof=eof)
    method = b"HEAD" if case["meta"].get("skipBody") else b"GET"
    # A 101 answers only a request that proposed an upgrade (treadle checks; llhttp not).
    upgrade = raw.startswith(b"HTTP/1.1 101 ")
    return parse_responses(raw, engine, method=method, eof=eof, upgrade=upgrade)


@pytest.mark.parametrize(("case", "raw"), _cases())
def test_llhttp_case(case: dict[str, Any], raw: bytes) -> None:
    key = (case["file"], case["name"])
    reason = case["reason"] or ""
    outcomes = {engine: run(case, raw, engine) for engine in ENGINES}
    if key in REJECTED_BY_POLICY or key in CONVERSION_ARTEFACTS:
        for engine in ENGINES:
            assert run(case, raw, engine, eof=True).error is not None, engine
    elif key in REJECTED_WHEN_COMPLETE:
        completed = raw + (b"\r\n" if raw.endswith(b"\r\n") else b"\r\n\r\n")
        for engine in ENGINES:
            assert run(case, completed, engine).error is not None, engine
    elif reason.startswith("Pause on"):
        # A protocol switch: no error, and parsing waits for the server's answer.
        for engine, outcome in outcomes.items():
            assert outcome.error is None, (engine, outcome)
    elif case["error"]:
        for engine, outcome in outcomes.items():
            assert outcome.error is not None, (engine, outcome)
    else:
        for engine, outcome in outcomes.items():
            assert outcome.error is None, (engine, outcome)
    first, *others = outcomes.values()
    for other in others:
        assert other.events == first.events


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_host_is_rejected_where_llhttp_accepts(engine: str) -> None:
    outcome = parse_requests([b"GET http://hypnotoad.org?hail=all HTTP/1.1\r\n\r\n"], engine)
    assert outcome.error is not None
    assert "Host" in str(outcome.error)


def test_every_listed_exception_names_a_real_case() -> None:
    names = {(case["file"], case["name"]) for case in json.loads(CORPUS.read_text())}
    listed = set(REJECTED_BY_POLICY) | CONVERSION_ARTEFACTS | REJECTED_WHEN_COMPLETE
    assert listed <= names
