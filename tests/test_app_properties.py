"""Properties of a whole application tested through the in-memory transport.

No sockets: ``TestServer(app, transport="memory")`` joins the real client (pool,
``ClientConnection``) and the real server (``RequestHandler``, ``ServerConnection``), so
hundreds of examples run in a few seconds on each backend. Request material comes from
``treadle.strategies``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from treadle import strategies as ts
from treadle import web
from treadle.protocol import Data, Request
from treadle.test_utils import RawTestServer, TestClient, TestServer

TIMEOUT = 5  # per example: a hang fails fast instead of stalling the shrinker
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    info = {
        "method": request.method,
        "tail": request.match_info["tail"],
        "query": list(request.query.items()),
        "headers": [(k, v) for k, v in request.headers.items() if k.lower().startswith("x-p-")],
        "chunked": "Transfer-Encoding" in request.headers,
    }
    return web.Response(body=body, headers={"X-Info": json.dumps(info, ensure_ascii=True)})


async def raw_handler(request: web.BaseRequest) -> web.Response:
    body = await request.read()
    return web.Response(text=f"{request.method} {len(body)}")


def echo_app() -> web.Application:
    app = web.Application(client_max_size=1 << 20)
    app.router.add_route("*", "/echo/{tail:.*}", echo)
    return app


@pytest.fixture
async def echo_client(treadle_client: Any) -> TestClient:
    """One client for all the examples of a test (an app per example would be slower)."""
    client: TestClient = await treadle_client(echo_app(), transport="memory")
    return client


@pytest.fixture
async def raw_server(treadle_raw_server: Any) -> RawTestServer:
    server: RawTestServer = await treadle_raw_server(
        raw_handler, transport="memory", access_log=None, shutdown_timeout=1
    )
    return server


segments = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
).filter(lambda s: s not in (".", "..") and "/" not in s)
query_items = st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=4)
header_fields = st.lists(
    st.tuples(
        ts.header_names().map(lambda n: "X-P-" + n.decode("ascii")),
        ts.header_values(allow_obs_text=False).map(lambda v: v.decode("latin-1")),
    ),
    max_size=4,
    unique_by=lambda item: item[0].lower(),
)


async def pieces(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@settings(SETTINGS, max_examples=300)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
    path=st.lists(segments, min_size=1, max_size=3),
    query=query_items,
    fields=header_fields,
    body=st.binary(max_size=4096),
    chunk=st.one_of(st.none(), st.integers(1, 1024)),
)
async def test_what_the_client_sends_the_app_receives(
    echo_client: TestClient,
    method: str,
    path: list[str],
    query: list[tuple[str, str]],
    fields: list[tuple[str, str]],
    body: bytes,
    chunk: int | None,
) -> None:
    client = echo_client
    tail = "/".join(path)
    url = URL.build(path="/echo/" + tail).with_query(query)
    data: Any = body if chunk is None else pieces(body, chunk)
    with anyio.fail_after(TIMEOUT):
        async with client.request(method, url, headers=fields, data=data) as resp:
            assert resp.status == 200
            received = await resp.read()
            info = json.loads(resp.headers["X-Info"])
    assert received == body
    assert info["method"] == method
    assert info["tail"] == tail
    assert [tuple(item) for item in info["query"]] == query
    assert sorted(tuple(f) for f in info["headers"]) == sorted(
        (name.lower(), value) for name, value in fields
    ) or sorted(tuple(f) for f in info["headers"]) == sorted(fields)
    assert info["chunked"] == (chunk is not None)


class Collector:
    """A raw client end: what the server sends, until it closes."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.lost = anyio.Event()
        self.changed = anyio.Event()
        self.conn: Any = None

    async def wait_until(self, done: Any) -> None:
        """Until ``done(data)`` or the connection is lost."""
        while not done(bytes(self.data)) and not self.lost.is_set():
            await self.changed.wait()
            self.changed = anyio.Event()

    def connection_made(self, conn: Any) -> None:
        self.conn = conn

    def data_received(self, data: bytes) -> None:
        self.data += data
        self.changed.set()

    def eof_received(self) -> None:
        self.conn.close()  # the server is done: close our half too

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost.set()
        self.changed.set()


async def exchange(server: Any, data: bytes) -> bytes:
    """Send ``data`` then EOF on a raw connection; what the server sent until it closed."""
    collector = Collector()
    conn = await server.dial(collector)
    conn.write(data)
    conn.write_eof()
    with anyio.fail_after(TIMEOUT):
        await collector.lost.wait()
    return bytes(collector.data)


def _expected(case: ts.RequestCase) -> list[tuple[str, int]]:
    answers: list[tuple[str, int]] = []
    for event in case.events:
        if isinstance(event, Request):
            answers.append((event.method.decode(), 0))
        elif isinstance(event, Data):
            method, size = answers[-1]
            answers[-1] = (method, size + len(event.data))
    return answers


def _parse_responses(data: bytes, methods: list[str]) -> list[tuple[int, bytes]]:
    """Responses in ``data`` to requests with ``methods`` (HEAD answers have no body).

    The server frames every reply of these apps with Content-Length, so a small reader
    is enough (a ``ClientConnection`` sends one request at a time, not a pipeline).
    """
    out: list[tuple[int, bytes]] = []
    for method in methods:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            break
        head, data = data[:end].decode("latin-1"), data[end + 4 :]
        lines = head.split("\r\n")
        status = int(lines[0].split(" ")[1])
        fields = dict(line.lower().split(": ", 1) for line in lines[1:])
        size = 0 if method == "HEAD" else int(fields.get("content-length", "0"))
        if len(data) < size:
            break
        out.append((status, data[:size]))
        data = data[size:]
    return out


@settings(SETTINGS, max_examples=100)  # generating pipelines dominates the time
@given(case=ts.pipelined_requests(max_count=3))
async def test_every_pipelined_request_is_answered_in_order(
    raw_server: RawTestServer, case: ts.RequestCase
) -> None:
    server = raw_server
    collector = Collector()
    conn = await server.dial(collector)
    conn.write(case.data)  # no EOF: see test_half_close_after_pipelined_requests
    expected = _expected(case)
    methods = [method for method, _ in expected]
    try:
        with anyio.fail_after(TIMEOUT):
            await collector.wait_until(
                lambda data: len(_parse_responses(data, methods)) == len(methods)
            )
            if not case.keep_alive:
                await collector.lost.wait()  # the server closes after Connection: close
    finally:
        conn.close()
    answers = _parse_responses(bytes(collector.data), methods)
    assert [status for status, _ in answers] == [200] * len(expected)
    for (method, size), (_, body) in zip(expected, answers, strict=True):
        assert body == (b"" if method == "HEAD" else f"{method} {size}".encode())


@SETTINGS
@given(case=ts.malformed_requests())
async def test_malformed_requests_get_their_status(
    raw_server: RawTestServer, case: ts.MalformedCase
) -> None:
    server = raw_server
    collector = Collector()
    conn = await server.dial(collector)
    conn.write(case.data)
    conn.write_eof()
    with anyio.fail_after(TIMEOUT):
        await collector.lost.wait()
    method = case.data.lstrip(b"\r\n").split(b" ", 1)[0].decode("latin-1")
    answers = _parse_responses(bytes(collector.data), ["HEAD" if method == "HEAD" else "GET"])
    if case.defect == "truncated" and not collector.data:
        return  # the peer went away mid-message: nothing to answer
    assert answers and answers[0][0] == case.status_hint, (case.defect, bytes(collector.data))


async def _pipeline_then_eof(server: Any, count: int) -> tuple[bool, list[tuple[int, bytes]]]:
    """``count`` pipelined GETs, then EOF: (closed by the server in time, answers)."""
    collector = Collector()
    conn = await server.dial(collector)
    conn.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * count)
    conn.write_eof()
    with anyio.move_on_after(2):
        await collector.lost.wait()
    conn.close()
    return collector.lost.is_set(), _parse_responses(bytes(collector.data), ["GET"] * count)


async def test_half_close_after_pipelined_requests(treadle_raw_server: Any) -> None:
    """RFC 9112 9.6: a client may half-close after its last request; all get answered."""
    server = await treadle_raw_server(
        raw_handler, transport="memory", access_log=None, handler_cancellation=False
    )
    assert await _pipeline_then_eof(server, 3) == (True, [(200, b"GET 0")] * 3)


async def test_half_close_with_handler_cancellation_closes(raw_server: RawTestServer) -> None:
    """With ``handler_cancellation=True`` (the test servers' default, as aiohttp's), EOF
    counts as a disconnect: handlers may be cancelled, but the connection must close."""
    closed, answers = await _pipeline_then_eof(raw_server, 3)
    assert closed
    assert all(answer == (200, b"GET 0") for answer in answers)


async def test_head_with_a_bad_first_chunk(raw_server: RawTestServer) -> None:
    """Found by the malformed-request property: once answered with a bare close."""
    head = b"HEAD / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    collector = Collector()
    conn = await raw_server.dial(collector)
    conn.write(head)
    with anyio.fail_after(2):
        await collector.lost.wait()
    assert _parse_responses(bytes(collector.data), ["HEAD"])[0][0] == 400


async def test_server_survives_the_corpus_and_still_serves() -> None:
    """After malformed input on one connection, the app keeps serving others."""
    async with TestClient(RawTestServer(raw_handler, transport="memory")) as client:
        reply = await exchange(client.server, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 400 ")
        reply = await exchange(client.server, b"\x00\x01\x02 nonsense\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 400 ")
        resp = await client.post("/", data=b"abc")
        assert await resp.text() == "POST 3"
    async with TestClient(TestServer(echo_app(), transport="memory")) as client:
        resp = await client.get("/echo/x")
        assert resp.status == 200
