"""The pure redirect rules: statuses, methods, Location resolution, header stripping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict
from yarl import URL

from treadle.client._exceptions import (
    InvalidUrlRedirectClientError,
    NonHttpUrlRedirectClientError,
    RedirectClientError,
)
from treadle.client._redirects import (
    REDIRECT_STATUSES,
    apply_redirect_headers,
    plan_redirect,
    redirect_location,
    redirect_method,
)

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def test_redirect_statuses() -> None:
    assert frozenset({301, 302, 303, 307, 308}) == REDIRECT_STATUSES
    for status in (300, 304, 305, 306, 200, 401):
        with pytest.raises(ValueError, match="not a redirect"):
            plan_redirect(status, "/x", URL("http://h/"), "GET")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("status", sorted(REDIRECT_STATUSES))
def test_method_rewriting_matches_aiohttp(status: int, method: str) -> None:
    # aiohttp (client.py): 303 -> GET unless HEAD; 301/302 + POST -> GET; else unchanged.
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        expected = ("GET", method != "GET")
    else:
        expected = (method, False)
    assert redirect_method(status, method) == expected
    plan = plan_redirect(status, "/next", URL("http://h/"), method)
    assert (plan.method, plan.drop_body) == expected


# RFC 3986 section 5.4.1's normal examples (those with an http target).
BASE = URL("http://a/b/c/d;p?q")
RFC3986 = [
    ("g", "http://a/b/c/g"),
    ("./g", "http://a/b/c/g"),
    ("g/", "http://a/b/c/g/"),
    ("/g", "http://a/g"),
    ("//g", "http://g"),
    ("?y", "http://a/b/c/d;p?y"),
    ("g?y", "http://a/b/c/g?y"),
    ("#s", "http://a/b/c/d;p?q#s"),
    ("g#s", "http://a/b/c/g#s"),
    ("g?y#s", "http://a/b/c/g?y#s"),
    (";x", "http://a/b/c/;x"),
    ("g;x", "http://a/b/c/g;x"),
    ("g;x?y#s", "http://a/b/c/g;x?y#s"),
    (".", "http://a/b/c/"),
    ("./", "http://a/b/c/"),
    ("..", "http://a/b/"),
    ("../", "http://a/b/"),
    ("../g", "http://a/b/g"),
    ("../..", "http://a/"),
    ("../../", "http://a/"),
    ("../../g", "http://a/g"),
]


@pytest.mark.parametrize(("location", "expected"), RFC3986)
def test_location_resolution_rfc3986_examples(location: str, expected: str) -> None:
    assert plan_redirect(302, location, BASE, "GET").url == URL(expected)


def test_scheme_relative_keeps_the_scheme() -> None:
    plan = plan_redirect(301, "//other.example/p", URL("https://a.example/x"), "GET")
    assert plan.url == URL("https://other.example/p")
    assert plan.cross_origin and not plan.downgrade


def test_fragment_inherited_unless_location_has_one() -> None:
    base = URL("http://h/a#top")
    assert plan_redirect(302, "/b", base, "GET").url.fragment == "top"
    assert plan_redirect(302, "/b#other", base, "GET").url.fragment == "other"
    assert plan_redirect(302, "/b", URL("http://h/a"), "GET").url.raw_fragment == ""


@pytest.mark.parametrize(
    "location", ["ftp://h/f", "javascript:alert(1)", "file:///etc/passwd", "ws://h/", "data:,x"]
)
def test_non_http_targets_are_refused(location: str) -> None:
    with pytest.raises(NonHttpUrlRedirectClientError) as info:
        plan_redirect(302, location, URL("http://h/"), "GET")
    assert isinstance(info.value, RedirectClientError)
    assert location in str(info.value)


@pytest.mark.parametrize("location", ["http:no-host", "https://[::1/", "http://"])
def test_invalid_targets_are_refused(location: str) -> None:
    with pytest.raises(InvalidUrlRedirectClientError):
        plan_redirect(302, location, URL("http://h/"), "GET")


@pytest.mark.parametrize(
    ("base", "location", "cross", "downgrade"),
    [
        ("http://h/a", "/b", False, False),
        ("http://h/a", "http://h:80/b", False, False),
        ("http://h/a", "http://H/b", False, False),
        ("http://h/a", "http://h:8080/b", True, False),
        ("http://h/a", "http://other/b", True, False),
        ("http://h/a", "https://h/b", True, False),
        ("https://h/a", "http://h/b", True, True),
        ("https://h/a", "//h/b", False, False),
    ],
)
def test_origin_and_downgrade(base: str, location: str, cross: bool, downgrade: bool) -> None:
    plan = plan_redirect(307, location, URL(base), "PUT")
    assert (plan.cross_origin, plan.downgrade) == (cross, downgrade)
    assert (plan.method, plan.drop_body) == ("PUT", False)


def _headers() -> CIMultiDict[str]:
    return CIMultiDict(
        [
            ("Authorization", "Basic x"),
            ("Cookie", "a=1"),
            ("cookie", "b=2"),
            ("Proxy-Authorization", "Basic y"),
            ("Host", "h"),
            ("Content-Type", "application/json"),
            ("Content-Length", "2"),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
            ("Expect", "100-continue"),
            ("X-Custom", "kept"),
            ("Accept", "*/*"),
        ]
    )


def test_cross_origin_strips_credentials() -> None:
    headers = _headers()
    apply_redirect_headers(headers, plan_redirect(307, "http://other/", URL("http://h/"), "POST"))
    assert "Authorization" not in headers and "Cookie" not in headers
    assert "Proxy-Authorization" not in headers and "Host" not in headers
    assert headers["Content-Type"] == "application/json"  # 307 keeps the body
    assert headers["X-Custom"] == "kept"


def test_same_origin_keeps_credentials() -> None:
    headers = _headers()
    apply_redirect_headers(headers, plan_redirect(308, "/next", URL("http://h/"), "PUT"))
    assert headers == _headers()


def test_method_change_drops_content_headers() -> None:
    headers = _headers()
    apply_redirect_headers(headers, plan_redirect(303, "/next", URL("http://h/"), "POST"))
    for name in (
        "Content-Type",
        "Content-Length",
        "Content-Encoding",
        "Transfer-Encoding",
        "Expect",
    ):
        assert name not in headers
    assert headers["Authorization"] == "Basic x"  # same origin
    assert headers.getall("Cookie") == ["a=1", "b=2"]


def test_redirect_location() -> None:
    assert redirect_location(CIMultiDict({"Location": "/a"})) == "/a"
    assert redirect_location(CIMultiDict({"URI": "/b"})) == "/b"
    assert redirect_location(CIMultiDict({"Location": "", "URI": "/b"})) == "/b"
    assert redirect_location(CIMultiDict({"Location": ""})) is None
    assert redirect_location(CIMultiDict()) is None


def test_requote_redirect_url() -> None:
    base = URL("http://h/")
    assert plan_redirect(302, "/a%2Fb c", base, "GET").url.raw_path == "/a%2Fb%20c"
    raw = plan_redirect(302, "/a%2fb", base, "GET", requote_redirect_url=False).url
    assert raw.raw_path == "/a%2fb"


@given(st.text(max_size=60), st.sampled_from(sorted(REDIRECT_STATUSES)), st.sampled_from(METHODS))
def test_any_location_is_followed_safely_or_refused(
    location: str, status: int, method: str
) -> None:
    try:
        plan = plan_redirect(status, location, URL("https://h.example/a/b?q#f"), method)
    except RedirectClientError:
        return
    assert plan.url.scheme in ("http", "https")
    assert plan.url.host
    same = (plan.url.scheme, plan.url.host, plan.url.port) == ("https", "h.example", 443)
    assert plan.cross_origin is not same
