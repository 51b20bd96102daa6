"""BaseRequest/Request: attributes derived from the head, and reading the body."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from multidict import CIMultiDictProxy
from yarl import URL

from treadle.message import StreamReader
from treadle.server import HTTPRequestEntityTooLarge
from treadle.server._http_helpers import ETag, HttpVersion
from treadle.server._mocked import MockedConnection, make_mocked_request
from treadle.server._request import BaseRequest, Request

from ._fakes import exchange


def test_request_line_attributes() -> None:
    request = exchange(b"GET /a%20b/c?x=1&x=2&y=%C3%A9 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n")
    assert request.method == "GET"
    assert request.version == HttpVersion(1, 1) == (1, 1)
    assert request.path == "/a b/c"
    assert request.raw_path == "/a%20b/c?x=1&x=2&y=%C3%A9"
    assert request.rel_url == URL("/a%20b/c?x=1&x=2&y=%C3%A9")
    assert request.query.getall("x") == ["1", "2"]
    assert request.query["y"] == "é"
    assert request.query_string == "x=1&x=2&y=é"
    assert request.path_qs == "/a%20b/c?x=1&x=2&y=%C3%A9"
    assert request.host == "example.com:8080"
    assert request.scheme == "http"
    assert request.secure is False
    assert str(request.url) == "http://example.com:8080/a%20b/c?x=1&x=2&y=%C3%A9"
    assert request.remote == "127.0.0.1"


def test_headers_are_lazy_and_case_insensitive() -> None:
    request = exchange(b"GET / HTTP/1.1\r\nHost: h\r\nX-Thing: caf\xe9\r\nx-thing: 2\r\n\r\n")
    assert request._headers is None
    headers = request.headers
    assert isinstance(headers, CIMultiDictProxy)
    assert headers.getall("X-THING") == ["café", "2"]
    assert request.headers is headers
    assert request.raw_headers[1] == (b"X-Thing", b"caf\xe9")


def test_absolute_form_target_sets_host_and_scheme() -> None:
    request = exchange(b"GET https://other.test:4443/p?q=1 HTTP/1.1\r\nHost: h\r\n\r\n")
    assert request.path == "/p"
    assert request.host == "other.test:4443"
    assert request.scheme == "https"
    assert str(request.url) == "https://other.test:4443/p?q=1"


def test_tls_connection_is_https() -> None:
    request = exchange(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", conn=MockedConnection(ssl_object=1))
    assert request.scheme == "https" and request.secure and request.is_tls


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", True),
        (b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", False),
        (b"GET / HTTP/1.0\r\n\r\n", False),
        (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", True),
    ],
)
def test_keep_alive(raw: bytes, expected: bool) -> None:
    assert exchange(raw).keep_alive is expected


def test_content_type_charset_length() -> None:
    request = exchange(
        b'POST / HTTP/1.1\r\nHost: h\r\nContent-Type: Text/HTML; Charset="UTF-8"\r\n'
        b"Content-Length: 2\r\n\r\nhi"
    )
    assert request.content_type == "text/html"
    assert request.charset == "utf-8"
    assert request.content_length == 2
    bare = exchange(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert bare.content_type == "application/octet-stream"
    assert bare.charset is None and bare.content_length is None


def test_cookies_are_parsed_leniently() -> None:
    request = exchange(b'GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; b="two"; junk; c=\r\n\r\n')
    assert dict(request.cookies) == {"a": "1", "b": "two", "junk": "", "c": ""}  # as aiohttp
    with pytest.raises(TypeError):
        request.cookies["d"] = "x"  # type: ignore[index]


def test_forwarded() -> None:
    request = exchange(
        b"GET / HTTP/1.1\r\nHost: h\r\n"
        b'Forwarded: for=192.0.2.60;proto=HTTPS;by="[2001:db8::1]:80", for=x\r\n'
        b'Forwarded: host="a\\"b"\r\n\r\n'
    )
    assert [dict(item) for item in request.forwarded] == [
        {"for": "192.0.2.60", "proto": "HTTPS", "by": "[2001:db8::1]:80"},
        {"for": "x"},
        {"host": 'a"b'},
    ]


def test_forwarded_bad_syntax_skips_to_next_element() -> None:
    request = exchange(b"GET / HTTP/1.1\r\nHost: h\r\nForwarded: for=a;;bad@, for=b\r\n\r\n")
    assert [dict(item) for item in request.forwarded] == [{"for": "a"}, {"for": "b"}]


def test_conditional_headers() -> None:
    request = exchange(
        b"GET / HTTP/1.1\r\nHost: h\r\n"
        b"If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
        b"If-Unmodified-Since: garbage\r\n"
        b'If-None-Match: W/"a", "b"\r\n'
        b"If-Match: *\r\n"
        b"If-Range: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n"
    )
    when = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert request.if_modified_since == when
    assert request.if_unmodified_since is None
    assert request.if_range == when
    assert request.if_none_match == (ETag("a", is_weak=True), ETag("b"))
    assert request.if_match == (ETag("*"),)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, slice(None, None, 1)),
        ("bytes=0-499", slice(0, 500, 1)),
        ("bytes=500-", slice(500, None, 1)),
        ("bytes=-500", slice(-500, None, 1)),
    ],
)
def test_http_range(value: str | None, expected: slice) -> None:
    headers = {"Range": value} if value else {}
    assert make_mocked_request("GET", "/", headers).http_range == expected


@pytest.mark.parametrize(
    "value", ["bytes=5-1", "bytes=0-1,3-4", "items=0-1", "bytes=-", "bytes=a-"]
)
def test_http_range_refuses_malformed(value: str) -> None:
    with pytest.raises(ValueError):
        _ = make_mocked_request("GET", "/", {"Range": value}).http_range


def test_mapping_storage() -> None:
    request = make_mocked_request("GET", "/")
    request["user"] = "ann"
    assert request["user"] == "ann" and len(request) == 1 and list(request) == ["user"]
    del request["user"]
    assert "user" not in request


async def test_read_text_json() -> None:
    body = json.dumps({"name": "été"}).encode()
    raw = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    request = exchange(raw)
    assert request.body_exists and request.can_read_body
    assert await request.read() == body
    assert await request.read() == body  # cached
    assert await request.text() == body.decode()
    assert await request.json() == {"name": "été"}
    assert not request.can_read_body and request.body_exists


async def test_text_uses_charset() -> None:
    raw = (
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain; charset=latin-1\r\n"
        b"Content-Length: 4\r\n\r\ncaf\xe9"
    )
    assert await exchange(raw).text() == "café"


async def test_json_does_not_check_content_type() -> None:
    raw = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n[]"
    assert await exchange(raw).json() == []


async def test_empty_body() -> None:
    request = exchange(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert not request.body_exists and not request.can_read_body
    assert await request.read() == b""
    assert await request.post() == {}


async def test_read_over_client_max_size_declared() -> None:
    raw = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"
    request = exchange(raw, client_max_size=10)
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await request.read()
    assert info.value.status == 413


async def test_read_over_client_max_size_chunked() -> None:
    raw = (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"
    )
    request = exchange(raw, client_max_size=10)
    with pytest.raises(HTTPRequestEntityTooLarge):
        await request.read()
    assert await exchange(raw, client_max_size=0).read() == b"hello world"


async def test_body_cut_short_raises_never_truncates() -> None:
    stream = StreamReader()
    stream.feed_data(b"partial")
    stream.set_exception(ConnectionResetError("peer went away"))
    request = make_mocked_request("POST", "/", {"Content-Length": "100"}, payload=stream)
    with pytest.raises(ConnectionResetError):
        await request.read()
    stream2 = StreamReader()
    stream2.feed_data(b'{"a": ')
    stream2.set_exception(ConnectionResetError("peer went away"))
    with pytest.raises(ConnectionResetError):
        await make_mocked_request("POST", "/", payload=stream2).json()


def test_clone() -> None:
    request = make_mocked_request("GET", "/path?a=1", {"X": "1"}, match_info={"k": "v"})
    request["state"] = 1
    clone = request.clone(method="post", rel_url="/new?b=2", headers={"Y": "2"}, host="h2")
    assert isinstance(clone, Request)
    assert clone.method == "POST" and clone.path == "/new" and clone.query["b"] == "2"
    assert "X" not in clone.headers and clone.headers["Y"] == "2"
    assert clone.host == "h2" and clone.match_info == {"k": "v"}
    assert clone["state"] == 1
    clone["state"] = 2
    assert request["state"] == 1
    assert request.method == "GET" and request.headers["X"] == "1"
    other = request.clone(scheme="https", remote="10.0.0.1", client_max_size=5)
    assert other.scheme == "https" and other.remote == "10.0.0.1" and other.client_max_size == 5
    assert str(other.url).startswith("https://example.com/path")
    with pytest.raises(ValueError):
        request.clone(rel_url="http://elsewhere/")


def test_base_request_has_no_match_info() -> None:
    request = exchange(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", request_class=Request)
    with pytest.raises(RuntimeError):
        _ = request.match_info
    assert request.app is None
    assert not isinstance(BaseRequest, Request)


def test_transport_extra_info() -> None:
    request = make_mocked_request("GET", "/")
    assert request.transport is not None
    assert request.transport.get_extra_info("peername") == ("127.0.0.1", 49152)
    assert request.get_extra_info("sockname") == ("127.0.0.1", 8080)
    assert request.get_extra_info("nothing", 5) == 5


def test_http10_without_host_uses_the_local_address() -> None:
    request = exchange(b"GET / HTTP/1.0\r\n\r\n")
    assert request.host == request.get_extra_info("sockname")[0]  # as aiohttp 3.12+
    assert request.version == (1, 0)


def test_config_dict_and_app() -> None:
    parent = {"a": 1, "b": 1}
    child = {"b": 2}

    class App(dict[str, int]):
        on_response_prepare = ()

    outer, inner = App(parent), App(child)
    request = make_mocked_request("GET", "/", app=inner)
    request.match_info.add_app(outer)
    assert request.app is inner
    assert request.config_dict["b"] == 2 and request.config_dict["a"] == 1
    assert set(request.config_dict) == {"a", "b"}
