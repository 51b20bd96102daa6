"""StreamResponse, Response, json_response and HTTP exceptions, checked on the wire."""

from __future__ import annotations

import gzip
import io
import zlib
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import pytest
from multidict import CIMultiDict

from treadle.server import HTTPFound, HTTPMethodNotAllowed, HTTPNotFound, HTTPNotModified
from treadle.server._http_helpers import ETag
from treadle.server._mocked import make_mocked_request
from treadle.server._response import (
    ContentCoding,
    Response,
    StreamResponse,
    json_response,
    response_from_http_exception,
)

from ._fakes import exchange, parse


class CountingWriter:
    """Wraps a writer and counts the calls a response makes on it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[str] = []
        self.connection = inner.connection
        self.output = inner.output

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if callable(attr):

            def record(*args: Any, **kwargs: Any) -> Any:
                self.calls.append(name)
                return attr(*args, **kwargs)

            return record
        return attr


async def test_response_text_is_one_send_whole() -> None:
    request = make_mocked_request("GET", "/")
    writer = CountingWriter(request.writer)
    request._writer = writer  # type: ignore[assignment]
    response = Response(text="héllo")
    await response.prepare(request)
    await response.write_eof()
    assert writer.calls == ["send_whole"]
    parsed = parse(writer)
    assert parsed.status == 200 and parsed.reason == "OK"
    assert parsed.body == "héllo".encode()
    assert parsed.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert parsed.headers["Content-Length"] == str(len("héllo".encode()))
    assert parsed.headers["Server"].startswith("Python/")
    assert parsed.headers["Date"].endswith(" GMT")
    assert response.prepared and response.body_length == len("héllo".encode())
    with pytest.raises(RuntimeError):
        await response.write(b"more")


async def test_response_constructor_rules() -> None:
    with pytest.raises(ValueError):
        Response(body=b"x", text="x")
    with pytest.raises(ValueError):
        Response(text="x", content_type="text/plain; charset=utf-8")
    with pytest.raises(ValueError):
        Response(text="x", headers={"Content-Type": "a/b"}, content_type="text/html")
    with pytest.raises(TypeError):
        Response(text=b"x")  # type: ignore[arg-type]
    response = Response(text="x", content_type="text/html", charset="latin-1")
    assert response.content_type == "text/html" and response.charset == "latin-1"
    assert response.text == "x"
    response = Response(body=b"\x00", content_type="image/png")
    assert response.content_type == "image/png" and response.content_length == 1
    headers = CIMultiDict({"X": "1"})
    assert Response(headers=headers).headers is headers  # used as is, as aiohttp


async def test_text_and_charset_setters() -> None:
    response = Response()
    response.text = "ü"
    assert response.content_type == "text/plain" and response.charset == "utf-8"
    response.charset = "latin-1"
    assert response.headers["Content-Type"] == "text/plain; charset=latin-1"
    response.text = "ü"
    assert response.body == b"\xfc"
    with pytest.raises(RuntimeError):
        StreamResponse().charset = "utf-8"


async def test_response_without_body_has_zero_length() -> None:
    request = make_mocked_request("GET", "/")
    response = Response(status=201)
    await response.prepare(request)
    await response.write_eof()
    parsed = parse(request.writer)
    assert parsed.status == 201 and parsed.body == b""
    assert parsed.headers["Content-Length"] == "0"
    assert "Content-Type" not in parsed.headers  # no content, no type (as aiohttp)
    with_body = make_mocked_request("GET", "/")
    await Response(body=b"x").prepare(with_body)
    assert parse(with_body.writer).headers["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize("status", [204, 304])
async def test_bodiless_statuses_send_no_length_or_body(status: int) -> None:
    request = make_mocked_request("GET", "/")
    response = Response(status=status, body=b"ignored")
    await response.prepare(request)
    await response.write_eof()
    output = bytes(request.writer.output)  # type: ignore[attr-defined]
    assert b"Content-Length" not in output and b"Transfer-Encoding" not in output
    assert output.endswith(b"\r\n\r\n")


async def test_head_keeps_content_length_but_sends_no_body() -> None:
    request = exchange(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n")
    response = Response(body=b"0123456789")
    await response.prepare(request)
    await response.write_eof()
    parsed = parse(request.writer, b"HEAD")
    assert parsed.headers["Content-Length"] == "10" and parsed.body == b""
    assert bytes(request.writer.output).endswith(b"\r\n\r\n")  # type: ignore[attr-defined]


async def test_head_stream_response_drops_written_body() -> None:
    request = exchange(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n")
    response = StreamResponse()
    response.content_length = 5
    await response.prepare(request)
    await response.write(b"hello")
    await response.write_eof()
    output = bytes(request.writer.output)  # type: ignore[attr-defined]
    assert output.endswith(b"\r\n\r\n") and b"Content-Length: 5" in output


async def test_stream_response_chunked_by_default_on_http11() -> None:
    request = make_mocked_request("GET", "/")
    response = StreamResponse(status=202, reason="Accepted Later", headers={"X-A": "1"})
    await response.prepare(request)
    assert await response.prepare(request) is request.writer  # once
    await response.write(b"abc")
    await response.write(bytearray(b"def"))
    await response.drain()
    await response.write_eof(b"!")
    await response.write_eof()  # no-op
    parsed = parse(request.writer)
    assert parsed.status == 202 and parsed.reason == "Accepted Later"
    assert parsed.headers["Transfer-Encoding"] == "chunked"
    assert parsed.headers["X-A"] == "1"
    assert parsed.body == b"abcdef!"
    assert response.body_length == 7
    with pytest.raises(RuntimeError):
        await response.write(b"x")


async def test_stream_response_http10_reads_until_close() -> None:
    request = exchange(b"GET / HTTP/1.0\r\n\r\n")
    response = StreamResponse()
    await response.prepare(request)
    await response.write(b"data")
    await response.write_eof()
    parsed = parse(request.writer)
    assert parsed.body == b"data" and "Transfer-Encoding" not in parsed.headers
    assert parsed.must_close


async def test_chunked_forbidden_on_http10() -> None:
    request = exchange(b"GET / HTTP/1.0\r\n\r\n")
    response = StreamResponse()
    response.enable_chunked_encoding()
    with pytest.raises(RuntimeError):
        await response.prepare(request)


async def test_write_before_prepare_and_type_checks() -> None:
    response = StreamResponse()
    with pytest.raises(RuntimeError):
        await response.write(b"x")
    with pytest.raises(TypeError):
        await response.write("text")  # type: ignore[arg-type]
    response.content_length = 3
    with pytest.raises(RuntimeError):
        response.enable_chunked_encoding()


async def test_force_close_and_keep_alive() -> None:
    request = make_mocked_request("GET", "/")
    response = Response(text="bye")
    response.force_close()
    await response.prepare(request)
    parsed = parse(request.writer)
    assert parsed.headers["Connection"] == "close" and parsed.must_close
    assert response.keep_alive is False
    request2 = make_mocked_request("GET", "/")
    response2 = Response(text="hi")
    await response2.prepare(request2)
    assert response2.keep_alive is True and not parse(request2.writer).must_close


async def test_set_status_and_reason_checks() -> None:
    response = StreamResponse()
    response.set_status(418)
    assert response.reason == HTTPStatus(418).phrase
    with pytest.raises(ValueError):
        response.set_status(200, "OK\r\nX-Injected: 1")
    with pytest.raises(ValueError):
        StreamResponse(status=42)
    request = make_mocked_request("GET", "/")
    await response.prepare(request)
    with pytest.raises(RuntimeError):
        response.set_status(200)


async def test_header_injection_is_refused_on_send() -> None:
    request = make_mocked_request("GET", "/")
    response = Response(text="x", headers={"X-Bad": "a\r\nSet-Cookie: evil=1"})
    with pytest.raises(Exception, match="invalid"):
        await response.prepare(request)
    assert b"evil" not in bytes(request.writer.output)  # type: ignore[attr-defined]


async def test_cookies() -> None:
    request = make_mocked_request("GET", "/")
    response = Response(text="x")
    response.set_cookie("session", "abc", max_age=10, httponly=True, samesite="Lax", secure=True)
    response.set_cookie("other", "with space;semi")
    response.set_cookie("chips", "1", secure=True, partitioned=True)
    response.del_cookie("old", path="/p")
    await response.prepare(request)
    parsed = parse(request.writer)
    cookies = parsed.headers.getall("Set-Cookie")
    assert any(
        c.startswith("session=abc") and "HttpOnly" in c and "SameSite=Lax" in c for c in cookies
    )
    assert any(c.startswith('other="with space\\073semi"') for c in cookies)
    assert "chips=1; Path=/; Secure; Partitioned" in cookies
    old = next(c for c in cookies if c.startswith("old="))
    assert 'old=""' in old and "Max-Age=0" in old and "1970" in old and "Path=/p" in old


def test_set_cookie_after_delete_drops_expiry() -> None:
    response = StreamResponse()
    response.del_cookie("name")
    response.set_cookie("name", "value")
    morsel = response.cookies["name"]
    assert morsel.value == "value" and not morsel.get("expires") and not morsel.get("max-age")
    assert morsel.OutputString() == "name=value; Path=/"


def test_entity_header_properties() -> None:
    response = StreamResponse()
    assert response.content_type == "application/octet-stream"
    response.content_type = "text/html"
    response.charset = "UTF-8"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    response.content_type = "application/xml"
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    response.charset = None
    assert response.headers["Content-Type"] == "application/xml"
    response.content_length = 5
    assert response.content_length == 5
    response.content_length = None
    assert response.content_length is None
    when = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    response.last_modified = when
    assert response.headers["Last-Modified"] == "Thu, 02 Jan 2020 03:04:05 GMT"
    assert response.last_modified == when
    response.last_modified = when.timestamp()
    assert response.last_modified == when
    response.last_modified = None
    assert "Last-Modified" not in response.headers
    response.etag = "abc"
    assert response.headers["ETag"] == '"abc"' and response.etag == ETag("abc")
    response.etag = ETag("w", is_weak=True)
    assert response.headers["ETag"] == 'W/"w"' and response.etag == ETag("w", True)
    with pytest.raises(ValueError):
        response.etag = 'bad"quote'
    response.etag = None
    assert response.etag is None


async def test_json_response() -> None:
    request = make_mocked_request("GET", "/")
    response = json_response({"a": [1, "é"]}, status=201, headers={"X": "y"})
    await response.prepare(request)
    parsed = parse(request.writer)
    assert parsed.status == 201
    assert parsed.headers["Content-Type"] == "application/json; charset=utf-8"
    assert parsed.body == b'{"a": [1, "\\u00e9"]}'
    with pytest.raises(ValueError):
        json_response({"a": 1}, text="x")
    custom = json_response([1], dumps=lambda data: "custom", content_type="application/x+json")
    assert custom.text == "custom" and custom.content_type == "application/x+json"


async def test_payload_body_streams_with_known_length() -> None:
    request = make_mocked_request("GET", "/")
    response = Response(body=io.BytesIO(b"from a file object"))
    await response.prepare(request)
    await response.write_eof()
    parsed = parse(request.writer)
    assert parsed.body == b"from a file object"
    assert parsed.headers["Content-Length"] == str(len(b"from a file object"))


async def test_async_iterable_body_is_chunked() -> None:
    async def gen() -> Any:
        yield b"one "
        yield b"two"

    request = make_mocked_request("GET", "/")
    response = Response(body=gen())
    await response.prepare(request)
    await response.write_eof()
    parsed = parse(request.writer)
    assert parsed.body == b"one two" and parsed.headers["Transfer-Encoding"] == "chunked"


def test_unsupported_body_type() -> None:
    with pytest.raises(ValueError):
        Response(body=object())


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip, deflate", "gzip"),
        ("deflate", "deflate"),
        ("gzip;q=0, deflate;q=0.5", "deflate"),
        ("br", None),
        ("*", "gzip"),
        ("gzip;q=0, *;q=0", None),
        ("", None),
    ],
)
async def test_compression_negotiation(accept: str, expected: str | None) -> None:
    request = make_mocked_request("GET", "/", {"Accept-Encoding": accept} if accept else {})
    response = Response(text="compress me " * 50)
    response.enable_compression()
    await response.prepare(request)
    parsed = parse(request.writer)
    assert parsed.headers.get("Content-Encoding") == expected
    assert parsed.headers["Vary"] == "Accept-Encoding"
    assert parsed.headers["Content-Length"] == str(len(parsed.body))
    body = parsed.body
    if expected == "gzip":
        body = gzip.decompress(body)
    elif expected == "deflate":
        body = zlib.decompress(body)
    assert body == b"compress me " * 50


async def test_forced_compression_streaming() -> None:
    request = make_mocked_request("GET", "/")
    response = StreamResponse()
    response.enable_compression(ContentCoding.gzip)
    await response.prepare(request)
    for _ in range(10):
        await response.write(b"streamed data ")
    await response.write_eof()
    parsed = parse(request.writer)
    assert parsed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(parsed.body) == b"streamed data " * 10


async def test_compression_in_thread_for_big_bodies() -> None:
    request = make_mocked_request("GET", "/")
    response = Response(body=b"z" * 5000, zlib_executor_size=1000)
    response.enable_compression(ContentCoding.deflate)
    await response.prepare(request)
    parsed = parse(request.writer)
    assert zlib.decompress(parsed.body) == b"z" * 5000


async def test_chunked_response_with_body() -> None:
    request = make_mocked_request("GET", "/")
    response = Response(body=b"chunky")
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write_eof()
    parsed = parse(request.writer)
    assert parsed.headers["Transfer-Encoding"] == "chunked" and parsed.body == b"chunky"


async def test_prepare_hook_sends_on_response_prepare() -> None:
    seen: list[Any] = []

    class Signal(list[Any]):
        async def send(self, *args: Any) -> None:
            for receiver in self:
                await receiver(*args)

    class App(dict[str, Any]):
        def __init__(self) -> None:
            super().__init__()
            self.on_response_prepare = Signal()

    async def add_header(request: Any, response: Any) -> None:
        seen.append((request, response))
        response.headers["X-Prepared"] = "yes"

    app = App()
    app.on_response_prepare.append(add_header)
    request = make_mocked_request("GET", "/", app=app)
    response = Response(text="x")
    await response.prepare(request)
    assert seen == [(request, response)]
    assert parse(request.writer).headers["X-Prepared"] == "yes"


@pytest.mark.parametrize(
    ("exc", "status", "body"),
    [
        (HTTPNotFound(), 404, b"404: Not Found"),
        (HTTPNotFound(text="nope"), 404, b"nope"),
        (HTTPFound("/elsewhere"), 302, b"302: Found"),
        (HTTPMethodNotAllowed("POST", ["GET", "HEAD"]), 405, b"405: Method Not Allowed"),
        (HTTPNotModified(), 304, b""),
    ],
)
async def test_response_from_http_exception(exc: Any, status: int, body: bytes) -> None:
    request = make_mocked_request("GET", "/")
    response = response_from_http_exception(exc)
    await response.prepare(request)
    await response.write_eof()
    parsed = parse(request.writer)
    assert parsed.status == status and parsed.body == body
    if status == 302:
        assert parsed.headers["Location"] == "/elsewhere"
    if status == 405:
        assert parsed.headers["Allow"] == "GET,HEAD"
    # The exception itself is untouched: it may answer the next request too.
    assert "Date" not in exc.headers and "Content-Length" not in exc.headers


async def test_response_mapping_and_repr() -> None:
    response = Response(text="x")
    response["k"] = 1
    assert response["k"] == 1 and len(response) == 1
    assert "not prepared" in repr(response)
    request = make_mocked_request("GET", "/p")
    await response.prepare(request)
    assert "eof" in repr(response)
    assert response.task is None


async def test_head_with_a_file_body_closes_the_file(tmp_path: Any) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"12345")
    request = exchange(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n")
    file = path.open("rb")
    response = Response(body=file)
    await response.prepare(request)
    await response.write_eof()
    parsed = parse(request.writer, b"HEAD")
    assert parsed.headers["Content-Length"] == "5" and parsed.body == b""
    assert file.closed
