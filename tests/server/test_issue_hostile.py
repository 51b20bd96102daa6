"""Hostile input over raw loopback sockets (issue 4, "Bad input"), on every backend.

Each case checks what a client sees on the wire (status, ``Connection: close``, no echo
of the request) and what the handler sees (an error, never a shorter body).
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from treadle.backends import get_backend
from treadle.server import Response
from treadle.server._app import Application

from ._serving import answer_to, raw_connection, read_response, read_until_close, serve

CHUNKED_HEAD = b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


class Recorder:
    """A handler that reads the body one way and records the outcome."""

    def __init__(self, how: str = "read") -> None:
        self.how = how
        self.outcomes: list[Any] = []
        self.paths: list[str] = []
        self.done = get_backend().create_event()

    async def __call__(self, request: Any) -> Response:
        self.paths.append(request.path)
        try:
            if self.how == "json":
                value: Any = await request.json()
            elif self.how == "post":
                value = dict(await request.post())
            elif self.how == "multipart":
                reader = await request.multipart()
                value = [(part.name, await part.read()) async for part in reader]
            else:
                value = await request.read()
        except BaseException as exc:
            self.outcomes.append(exc)
            raise
        finally:
            self.done.set()
        self.outcomes.append(value)
        return Response(text=f"{request.path} {len(value)}")


async def cut_upload(app: Application, recorder: Recorder, wire: bytes) -> bytes:
    """Send ``wire`` then EOF (a body cut short): what the server answers, once the
    recorder's handler has finished with it."""
    async with serve(app) as (url, _), raw_connection(url) as stream:
        await stream.send(wire)
        await stream.send_eof()
        data = await read_until_close(stream)
        with anyio.fail_after(5):
            await recorder.done.wait()
    return data


def head_and_body(data: bytes) -> tuple[bytes, bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_body_over_client_max_size_is_413_with_close_and_no_echo(chunked: bool) -> None:
    app = Application(client_max_size=1024)
    recorder = Recorder()
    app.router.add_post("/up", recorder)
    body = b"SECRET-" * 400  # 2800 bytes
    if chunked:
        wire = CHUNKED_HEAD + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    else:
        wire = b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    data = await answer_to(app, wire)
    head, page = head_and_body(data)
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"\r\nConnection: close" in head
    assert b"SECRET" not in data
    assert page  # an explanation, not an empty answer
    assert data.count(b"HTTP/1.1 ") == 1
    # The handler saw the refusal as an exception from read(), never a shorter body.
    assert len(recorder.outcomes) == 1
    assert getattr(recorder.outcomes[0], "status", None) == 413


async def test_pipelining_is_bounded_and_earlier_requests_are_still_answered() -> None:
    """64 queued requests are answered in order; the 65th is refused with 429 and close."""
    recorder = Recorder()
    async with serve(recorder) as (url, server), raw_connection(url) as stream:
        await stream.send(b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(100)))
        data = await read_until_close(stream, limit=10)
        limit = server.limits.max_pipelined_requests
    answers = data.split(b"HTTP/1.1 ")[1:]
    assert len(answers) == limit + 1
    assert recorder.paths == [f"/{i}" for i in range(limit)]
    for i, answer in enumerate(answers[:-1]):
        assert answer.startswith(b"200 OK\r\n")
        assert answer.endswith(b"/%d 0" % i)
        assert b"Connection: close" not in answer
    assert answers[-1].startswith(b"429 ")
    assert b"\r\nConnection: close\r\n" in answers[-1]


async def test_good_requests_before_a_malformed_one_are_answered_first() -> None:
    recorder = Recorder()
    async with serve(recorder) as (url, _), raw_connection(url) as stream:
        await stream.send(
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /c\x01SECRET HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        data = await read_until_close(stream)
    answers = data.split(b"HTTP/1.1 ")[1:]
    assert [a[:3] for a in answers] == [b"200", b"200", b"400"]
    assert answers[0].endswith(b"/a 0") and answers[1].endswith(b"/b 0")
    assert b"Connection: close" in answers[2] and b"SECRET" not in data
    assert recorder.paths == ["/a", "/b"]


@pytest.mark.parametrize(
    ("name", "opening", "piece"),
    [
        ("chunk extension", CHUNKED_HEAD + b"1;ext=", b"e" * 16384),
        ("trailer field", CHUNKED_HEAD + b"1\r\nx\r\n0\r\nX-Trailer: ", b"t" * 16384),
    ],
)
async def test_streamed_framing_without_data_is_bounded(
    name: str, opening: bytes, piece: bytes
) -> None:
    """A chunk extension or trailer that never ends is cut off (not read or buffered
    forever): the handler's read() fails and the client gets a 400 and a close."""
    recorder = Recorder()
    sent = 0
    async with serve(recorder) as (url, _), raw_connection(url) as stream:
        await stream.send(opening)
        with anyio.fail_after(10):
            while not recorder.done.is_set() and sent < 8 * 1024 * 1024:
                try:
                    await stream.send(piece)
                except (anyio.BrokenResourceError, OSError):
                    break
                sent += len(piece)
                await anyio.sleep(0)
            await recorder.done.wait()
        data = await read_until_close(stream)
    assert sent < 8 * 1024 * 1024, f"a streamed {name} was read without limit"
    assert len(recorder.outcomes) == 1 and isinstance(recorder.outcomes[0], Exception)
    assert getattr(recorder.outcomes[0], "status", None) == 400
    if data:  # the answer may be lost to the reset of a socket still full of input
        assert data.startswith(b"HTTP/1.1 400 ")
        assert b"eeee" not in data and b"tttt" not in data


async def test_many_tiny_chunks_make_the_whole_body() -> None:
    recorder = Recorder()
    count = 20000
    wire = CHUNKED_HEAD + b"1\r\nx\r\n" * count + b"0\r\n\r\n"
    async with serve(recorder) as (url, _), raw_connection(url) as stream:
        await stream.send(wire)
        response = await read_response(stream, bytearray())
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert response.endswith(b"/up %d" % count)
    assert recorder.outcomes == [b"x" * count]


async def test_small_chunk_extensions_are_accepted() -> None:
    recorder = Recorder()
    wire = CHUNKED_HEAD + b'3;name=value;q="quoted"\r\nabc\r\n0;last\r\n\r\n'
    async with serve(recorder) as (url, _), raw_connection(url) as stream:
        await stream.send(wire)
        response = await read_response(stream, bytearray())
    assert response.endswith(b"/up 3")
    assert recorder.outcomes == [b"abc"]


@pytest.mark.parametrize(
    "wire",
    [
        # CL.TE and TE.CL: the classic smuggling pair (RFC 9112 6.3: refuse both).
        b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n"
        b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
        # Obfuscated Transfer-Encoding fields.
        b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n"
        b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\nContent-Length: 0\r\n\r\n"
        b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n"
        b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
        # Two different lengths.
        b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\n"
        b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
        # Chunked framing in HTTP/1.0 (RFC 9112 6.1).
        b"POST /up HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=["cl-te", "te-cl", "te-space", "te-identity", "te-xchunked", "two-cl", "te-http10"],
)
async def test_request_smuggling_is_refused(wire: bytes) -> None:
    recorder = Recorder()
    data = await answer_to(recorder, wire)
    head, _ = head_and_body(data)
    assert head.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 501 "))
    assert b"\r\nConnection: close" in head
    assert data.count(b"HTTP/1.1 ") == 1
    assert recorder.paths == []  # neither the outer nor the smuggled request ran


async def test_one_header_line_a_second_is_cut_off_by_the_header_timeout() -> None:
    """Slowloris at its usual pace: a head that never ends within header_read_timeout."""
    backend = get_backend()
    recorder = Recorder()
    async with serve(recorder, header_read_timeout=1.5) as (url, server):
        async with raw_connection(url) as stream:
            start = backend.current_time()
            await stream.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
            closed_after = None
            with anyio.fail_after(10):
                for i in range(8):
                    with anyio.move_on_after(1.0):
                        try:
                            if not await stream.receive():
                                break
                        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                            closed_after = backend.current_time() - start
                            break
                    try:
                        await stream.send(b"X-Drip-%d: y\r\n" % i)
                    except (anyio.BrokenResourceError, OSError):
                        closed_after = backend.current_time() - start
                        break
        assert server.requests_count == 0
    assert closed_after is not None, "the trickling connection was never closed"
    assert closed_after < 4.0  # the 1.5 s timeout fired, not the loop's 8 s end
    assert recorder.paths == []


@pytest.mark.parametrize("how", ["read", "json", "post"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_body_cut_short_surfaces_as_an_error(how: str, chunked: bool) -> None:
    """The client sends part of the body and half-closes: every reader raises."""
    recorder = Recorder(how)
    app = Application()
    app.router.add_post("/up", recorder)
    if how == "post":
        full = b"a=1&b=" + b"2" * 100
        content_type = b"application/x-www-form-urlencoded"
    else:
        full = json.dumps({"key": "v" * 100}).encode()
        content_type = b"application/json"
    part = full[: len(full) // 2]
    if chunked:
        wire = (
            b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n" % (content_type, len(part), part)
        )
    else:
        head = b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
        wire = head % (content_type, len(full)) + part
    data = await cut_upload(app, recorder, wire)
    assert len(recorder.outcomes) == 1
    outcome = recorder.outcomes[0]
    assert isinstance(outcome, Exception), f"{how}() returned {outcome!r} for a cut body"
    assert not data.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("file_fields", [False, True], ids=["text-fields", "file-fields"])
async def test_post_is_bounded_across_the_whole_form_over_the_wire(file_fields: bool) -> None:
    """Many multipart fields, each under client_max_size, add up past it: 413 + close."""
    app = Application(client_max_size=4096)
    recorder = Recorder("post")
    app.router.add_post("/up", recorder)
    filename = b'; filename="f.bin"' if file_fields else b""
    part = (
        b'--B\r\nContent-Disposition: form-data; name="f"%s\r\n\r\n' % filename
        + b"v" * 1000
        + b"\r\n"
    )
    body = part * 10 + b"--B--\r\n"
    wire = (
        b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    )
    data = await answer_to(app, wire)
    head, _ = head_and_body(data)
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"\r\nConnection: close" in head
    assert b"vvvv" not in data
    assert getattr(recorder.outcomes[0], "status", None) == 413


async def test_default_client_max_size_is_one_mebibyte() -> None:
    app = Application()
    recorder = Recorder()
    app.router.add_post("/up", recorder)
    assert app._client_max_size == 1024**2
    async with serve(app) as (url, _):
        for size, status in ((1024**2, b"200"), (1024**2 + 1, b"413")):
            async with raw_connection(url) as stream:
                await stream.send(
                    b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                    b"Connection: close\r\n\r\n" % size
                )
                await stream.send(b"z" * size)
                data = await read_until_close(stream)
            assert data.startswith(b"HTTP/1.1 " + status), data[:40]


@pytest.mark.parametrize(
    ("wire", "status"),
    [
        (b"GET /up HTTP/1.1\r\nHost: x\r\nExpect: SECRET-expectation\r\n\r\n", 417),
        (
            b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded;"
            b" charset=SECRET\r\nContent-Length: 3\r\n\r\na=b",
            400,
        ),
        (
            b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"
            b"Content-Length: 30\r\n\r\n--B\r\nSECRET header line\r\n\r\n",
            400,
        ),
        (
            b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"
            b'Content-Length: 90\r\n\r\n--B\r\nContent-Disposition: form-data; name="SECRET"\r\n'
            b"Content-Type: text/plain; charset=ascii\r\n\r\n\xff\r\n--B--\r\n",
            400,
        ),
    ],
    ids=["expect", "form-charset", "multipart-header", "field-name"],
)
async def test_handler_level_400s_do_not_echo_the_request(wire: bytes, status: int) -> None:
    app = Application()
    app.router.add_route("*", "/up", Recorder("post"))
    async with serve(app) as (url, _), raw_connection(url) as stream:
        await stream.send(wire)
        response = await read_response(stream, bytearray())
    assert response.startswith(b"HTTP/1.1 %d " % status), response
    assert b"SECRET" not in response


async def test_multipart_reader_on_a_body_cut_short_raises() -> None:
    """The streaming multipart() reader surfaces a cut body as an error too."""
    recorder = Recorder("multipart")
    app = Application()
    app.router.add_post("/up", recorder)
    body = (
        b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\n' + b"1" * 100 + b"\r\n"
        b'--B\r\nContent-Disposition: form-data; name="b"\r\n\r\n' + b"2" * 50
    )
    wire = (
        b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"
        b"Content-Length: 1000\r\n\r\n" + body
    )
    data = await cut_upload(app, recorder, wire)
    assert len(recorder.outcomes) == 1 and isinstance(recorder.outcomes[0], Exception)
    assert not data.startswith(b"HTTP/1.1 200")
