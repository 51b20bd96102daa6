"""ClientRequest building: URL, default headers, body framing, refusal of injection."""

from __future__ import annotations

import io
from http.cookies import SimpleCookie

import pytest
from multidict import CIMultiDict
from yarl import URL

from treadle.client._exceptions import InvalidUrlClientError, NonHttpUrlClientError
from treadle.client._request import SERVER_SOFTWARE, ClientRequest, HttpVersion10
from treadle.message import FormData, MultipartWriter, accepted_encodings


def make(method: str = "GET", url: str = "http://example.com/path", **kw: object) -> ClientRequest:
    return ClientRequest(method, URL(url), **kw)  # type: ignore[arg-type]


def head_fields(req: ClientRequest) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in req.build_head().headers}


def test_default_headers_like_aiohttp() -> None:
    req = make(url="http://example.com:8080/a?b=1")
    assert req.headers["Host"] == "example.com:8080"
    assert req.headers["Accept"] == "*/*"
    assert req.headers["Accept-Encoding"] == accepted_encodings()
    assert req.headers["User-Agent"] == SERVER_SOFTWARE
    assert "Content-Length" not in req.headers  # GET without a body has no framing
    head = req.build_head()
    assert head.method == b"GET"
    assert head.target == b"/a?b=1"
    assert head.http_version == b"1.1"


def test_default_port_is_left_out_of_host_and_ipv6_is_bracketed() -> None:
    assert make(url="https://example.com:443/").headers["Host"] == "example.com"
    assert make(url="http://[::1]:8000/").headers["Host"] == "[::1]:8000"


def test_params_are_merged_and_fragment_dropped() -> None:
    req = make(url="http://h/p?a=1#frag", params={"b": "x y"})
    assert str(req.url) == "http://h/p?a=1&b=x+y"
    assert req.original_url.fragment == "frag"
    assert req.request_info.real_url == req.original_url
    assert req.build_head().target == b"/p?a=1&b=x+y"


def test_skip_auto_headers_and_user_headers_win() -> None:
    req = make(skip_auto_headers=["User-Agent", "accept-encoding"], headers={"Accept": "text/x"})
    assert "User-Agent" not in req.headers
    assert "Accept-Encoding" not in req.headers
    assert req.headers["Accept"] == "text/x"


def test_host_header_replaced_not_duplicated() -> None:
    req = make(headers=[("Host", "other.example"), ("X-A", "1"), ("X-A", "2")])
    assert req.headers.getall("Host") == ["other.example"]
    assert req.headers.getall("X-A") == ["1", "2"]


def test_post_without_body_sends_content_length_zero() -> None:
    fields = head_fields(make("POST"))
    assert fields[b"content-length"] == b"0"
    assert fields[b"content-type"] == b"application/octet-stream"
    assert b"content-length" in head_fields(make("DELETE"))


@pytest.mark.parametrize(
    ("data", "length", "ctype"),
    [
        (b"abc", b"3", b"application/octet-stream"),
        ("h\u00e9", b"3", b"text/plain; charset=utf-8"),
        ({"a": "1", "b": "2"}, b"7", b"application/x-www-form-urlencoded"),
        ([("a", "1"), ("a", "2")], b"7", b"application/x-www-form-urlencoded"),
        (io.BytesIO(b"12345"), b"5", b"application/octet-stream"),
    ],
)
def test_body_payload_sets_length_and_type(data: object, length: bytes, ctype: bytes) -> None:
    fields = head_fields(make("POST", data=data))
    assert fields[b"content-length"] == length
    assert fields[b"content-type"] == ctype
    assert b"transfer-encoding" not in fields


def test_body_of_unknown_size_is_chunked() -> None:
    async def gen():  # type: ignore[no-untyped-def]
        yield b"x"

    req = make("POST", data=gen())
    fields = head_fields(req)
    assert fields[b"transfer-encoding"] == b"chunked"
    assert b"content-length" not in fields


def test_formdata_with_file_is_multipart() -> None:
    form = FormData()
    form.add_field("f", io.BytesIO(b"data"), filename="a.txt")
    req = make("POST", data=form)
    assert req.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert isinstance(req.body, MultipartWriter)


def test_chunked_and_compress() -> None:
    req = make("POST", data=b"abc", chunked=True)
    assert req.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in req.headers
    req = make("POST", data=b"abc", compress="gzip")
    assert req.headers["Content-Encoding"] == "gzip"
    assert req.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in req.headers
    assert make("POST", data=b"abc", compress=True).headers["Content-Encoding"] == "deflate"
    with pytest.raises(ValueError, match="Content-Length"):
        make("POST", data=b"abc", chunked=True, headers={"Content-Length": "3"})
    with pytest.raises(ValueError, match="Content-Encoding"):
        make("POST", data=b"abc", compress="gzip", headers={"Content-Encoding": "br"})
    with pytest.raises(ValueError, match=r"HTTP/1\.0"):
        make("POST", data=b"abc", chunked=True, version=HttpVersion10)


def test_expect100_header() -> None:
    assert make("POST", data=b"x", expect100=True).headers["Expect"] == "100-continue"


def test_basic_auth_from_url_and_argument() -> None:
    req = make(url="http://user:p%40ss@example.com/")
    assert req.headers["Authorization"] == "Basic dXNlcjpwQHNz"

    class Auth:
        def encode(self) -> str:
            return "Basic Zm9vOmJhcg=="

    assert make(auth=Auth()).headers["Authorization"] == "Basic Zm9vOmJhcg=="
    with pytest.raises(TypeError):
        make(auth=("user", "pass"))


def test_cookies_are_merged_with_a_cookie_header() -> None:
    jar = SimpleCookie()
    jar["b"] = "2"
    req = make(headers={"Cookie": "a=1"}, cookies=jar)
    assert req.headers["Cookie"] == "a=1; b=2"
    assert make(cookies={"x": "y z"}).headers["Cookie"] == 'x="y z"'


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "GET\r\nX: y"},
        {"method": "G T"},
        {"headers": {"X-Evil": "a\r\nInjected: 1"}},
        {"headers": {"X-Evil": "a\nb"}},
        {"headers": {"X Evil": "a"}},
        {"headers": {"X-Nul": "a\x00b"}},
    ],
)
def test_header_injection_is_refused_with_value_error(kwargs: dict[str, object]) -> None:
    method = str(kwargs.pop("method", "GET"))
    with pytest.raises(ValueError):
        make(method, **kwargs).build_head()


def test_url_injection_is_refused() -> None:
    # yarl strips CR/LF (WHATWG URL parsing) from what it is given unencoded
    assert make(url="http://h/a\r\nX: y").build_head().target == b"/aX:%20y"
    raw = URL.build(scheme="http", host="h", path="/a\r\nb", encoded=True)
    with pytest.raises(ValueError, match="control character"):
        ClientRequest("GET", raw).build_head()


def test_bad_urls() -> None:
    with pytest.raises(NonHttpUrlClientError):
        make(url="ftp://example.com/")
    with pytest.raises(InvalidUrlClientError):
        make(url="http:///path")


def test_proxy_target_is_absolute_form_for_http_only() -> None:
    proxy = URL("http://proxy:3128")
    assert make(proxy=proxy).build_head().target == b"http://example.com/path"
    assert make(url="https://example.com/p", proxy=proxy).build_head().target == b"/p"
    key = make(proxy=proxy, proxy_headers=CIMultiDict({"X": "1"})).connection_key
    assert key.proxy == "http://proxy:3128"
    assert key.proxy_headers_hash is not None


def test_connection_key() -> None:
    key = make(url="https://example.com/").connection_key
    assert (key.host, key.port, key.is_ssl) == ("example.com", 443, True)
    assert make(url="http://example.com:81/").connection_key.port == 81


async def test_update_body_redoes_the_framing() -> None:
    req = make("POST", data=b"abc")
    await req.update_body(b"longer body")
    fields = head_fields(req)
    assert fields[b"content-length"] == b"11"

    async def gen():  # type: ignore[no-untyped-def]
        yield b"x"

    await req.update_body(gen())
    fields = head_fields(req)
    assert fields[b"transfer-encoding"] == b"chunked"
    assert b"content-length" not in fields
    await req.update_body(None)
    assert head_fields(req)[b"content-length"] == b"0"
