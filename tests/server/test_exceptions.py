"""The HTTPException family: every class against http.HTTPStatus, and what goes on the wire."""

from __future__ import annotations

import pickle
from http import HTTPStatus
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

from treadle import server as web

# aiohttp 3.x's names and codes, written out so a missing or renumbered class fails.
FAMILY = {
    "HTTPOk": 200,
    "HTTPCreated": 201,
    "HTTPAccepted": 202,
    "HTTPNonAuthoritativeInformation": 203,
    "HTTPNoContent": 204,
    "HTTPResetContent": 205,
    "HTTPPartialContent": 206,
    "HTTPMultipleChoices": 300,
    "HTTPMovedPermanently": 301,
    "HTTPFound": 302,
    "HTTPSeeOther": 303,
    "HTTPNotModified": 304,
    "HTTPUseProxy": 305,
    "HTTPTemporaryRedirect": 307,
    "HTTPPermanentRedirect": 308,
    "HTTPBadRequest": 400,
    "HTTPUnauthorized": 401,
    "HTTPPaymentRequired": 402,
    "HTTPForbidden": 403,
    "HTTPNotFound": 404,
    "HTTPMethodNotAllowed": 405,
    "HTTPNotAcceptable": 406,
    "HTTPProxyAuthenticationRequired": 407,
    "HTTPRequestTimeout": 408,
    "HTTPConflict": 409,
    "HTTPGone": 410,
    "HTTPLengthRequired": 411,
    "HTTPPreconditionFailed": 412,
    "HTTPRequestEntityTooLarge": 413,
    "HTTPRequestURITooLong": 414,
    "HTTPUnsupportedMediaType": 415,
    "HTTPRequestRangeNotSatisfiable": 416,
    "HTTPExpectationFailed": 417,
    "HTTPMisdirectedRequest": 421,
    "HTTPUnprocessableEntity": 422,
    "HTTPFailedDependency": 424,
    "HTTPUpgradeRequired": 426,
    "HTTPPreconditionRequired": 428,
    "HTTPTooManyRequests": 429,
    "HTTPRequestHeaderFieldsTooLarge": 431,
    "HTTPUnavailableForLegalReasons": 451,
    "HTTPInternalServerError": 500,
    "HTTPNotImplemented": 501,
    "HTTPBadGateway": 502,
    "HTTPServiceUnavailable": 503,
    "HTTPGatewayTimeout": 504,
    "HTTPVersionNotSupported": 505,
    "HTTPVariantAlsoNegotiates": 506,
    "HTTPInsufficientStorage": 507,
    "HTTPNotExtended": 510,
    "HTTPNetworkAuthenticationRequired": 511,
}
BODILESS = {204, 205, 304}


def make(cls: type[web.HTTPException], **kwargs: Any) -> web.HTTPException:
    """Instantiate any class of the family with its required positional arguments."""
    if issubclass(cls, web.HTTPMove):
        return cls("/elsewhere", **kwargs)
    if cls is web.HTTPMethodNotAllowed:
        return cls("PUT", ["GET", "POST"], **kwargs)
    if cls is web.HTTPRequestEntityTooLarge:
        return cls(10, 20, **kwargs)
    if cls is web.HTTPUnavailableForLegalReasons:
        return cls("https://example.org/blocked", **kwargs)
    return cls(**kwargs)


ALL = pytest.mark.parametrize(("name", "code"), sorted(FAMILY.items(), key=lambda kv: kv[1]))


def test_every_concrete_class_is_exported_and_listed() -> None:
    concrete = {
        name
        for name in web.__all__
        if isinstance(getattr(web, name), type)
        and issubclass(getattr(web, name), web.HTTPException)
        and getattr(web, name).status_code >= 0
    }
    assert concrete == set(FAMILY)


@ALL
def test_status_and_reason_follow_http_status(name: str, code: int) -> None:
    cls = getattr(web, name)
    exc = make(cls)
    assert cls.status_code == code
    assert exc.status == exc.status_code == HTTPStatus(code).value
    assert exc.reason == HTTPStatus(code).phrase
    assert str(exc) == exc.reason
    assert repr(exc) == f"<{name}: {exc.reason}>"
    assert isinstance(exc.headers, CIMultiDict)


@ALL
def test_class_sits_under_its_status_class(name: str, code: int) -> None:
    cls = getattr(web, name)
    base = {
        2: web.HTTPSuccessful,
        3: web.HTTPRedirection,
        4: web.HTTPClientError,
        5: web.HTTPServerError,
    }[code // 100]
    assert issubclass(cls, base)
    assert issubclass(cls, web.HTTPError) == (code >= 400)
    assert issubclass(cls, web.HTTPMove) == (code in {300, 301, 302, 303, 305, 307, 308})


@ALL
def test_default_body_is_status_and_reason_as_plain_text(name: str, code: int) -> None:
    exc = make(getattr(web, name))
    if code in BODILESS:
        assert exc.text is None and exc.body is None
        assert "Content-Type" not in exc.headers
        assert exc.content_type is None
        return
    expected = f"{code}: {HTTPStatus(code).phrase}"
    if code == 413:
        expected = "Maximum request body size 10 exceeded, actual body size 20"
    assert exc.text == expected
    assert exc.body == expected.encode()
    assert exc.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert exc.content_type == "text/plain"
    assert exc.charset == "utf-8"


@ALL
def test_can_be_raised_caught_and_returned(name: str, code: int) -> None:
    exc = make(getattr(web, name))
    with pytest.raises(web.HTTPException) as info:
        raise exc
    assert info.value is exc
    assert bool(exc) is True
    assert exc.__http_exception__ is True


@ALL
def test_pickles(name: str, code: int) -> None:
    exc = make(getattr(web, name), headers={"X-Trace": "1"}, reason="Custom")
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc)
    assert (copy.status, copy.reason, copy.body) == (exc.status, "Custom", exc.body)
    assert copy.headers == exc.headers


def test_custom_reason_text_headers_and_content_type() -> None:
    exc = web.HTTPBadRequest(
        reason="Bad Thing", text="<b>no</b>", headers={"X-A": "1"}, content_type="text/html"
    )
    assert exc.reason == str(exc) == "Bad Thing"
    assert exc.text == "<b>no</b>"
    assert exc.body == b"<b>no</b>"
    assert exc.headers["X-A"] == "1"
    assert exc.headers["Content-Type"] == "text/html; charset=utf-8"
    assert exc.content_type == "text/html"


def test_body_bytes_default_to_octet_stream() -> None:
    exc = web.HTTPInternalServerError(body=b"\x00\x01")
    assert exc.body == b"\x00\x01"
    assert exc.content_type == "application/octet-stream"


def test_content_type_header_given_by_caller_is_kept() -> None:
    exc = web.HTTPConflict(text="{}", headers={"content-type": "application/json"})
    assert exc.headers.getall("Content-Type") == ["application/json"]
    assert exc.content_type == "application/json"


def test_text_setter_replaces_body() -> None:
    exc = web.HTTPNotFound()
    exc.text = "gone fishing"
    assert exc.body == b"gone fishing"
    exc.body = b"raw"
    assert exc.text == "raw"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"body": b"x", "text": "x"},
        {"text": "x", "content_type": "text/plain; charset=latin-1"},
        {"text": "x", "content_type": "text/plain", "headers": {"Content-Type": "a/b"}},
    ],
)
def test_contradictory_arguments_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        web.HTTPBadRequest(**kwargs)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-A": "1\r\nSet-Cookie: evil=1"},
        {"X-A": "1\nX-B: 2"},
        {"X-A": "nul\x00"},
        {"Bad Name": "1"},
        {"X-A\r\nX-B": "1"},
        {"": "1"},
    ],
)
def test_header_injection_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        web.HTTPForbidden(headers=headers)


@pytest.mark.parametrize("content_type", ["text/html\r\nSet-Cookie: evil=1", "text/html\n"])
def test_content_type_injection_is_refused(content_type: str) -> None:
    with pytest.raises(ValueError):
        web.HTTPForbidden(text="x", content_type=content_type)


def test_header_values_may_hold_tabs_and_obs_text() -> None:
    exc = web.HTTPForbidden(headers={"X-A": "a\tb\xe9"})
    assert exc.headers["X-A"] == "a\tb\xe9"


@pytest.mark.parametrize("reason", ["OK\r\nX-Evil: 1", "bad\n", "nul\x00"])
def test_reason_with_control_characters_is_refused(reason: str) -> None:
    with pytest.raises(ValueError):
        web.HTTPBadRequest(reason=reason)


@pytest.mark.parametrize("cls", [web.HTTPFound, web.HTTPSeeOther, web.HTTPPermanentRedirect])
def test_redirect_location_goes_into_location_header(cls: type[web.HTTPMove]) -> None:
    exc = cls("/next?a=1")
    assert exc.headers["Location"] == "/next?a=1"
    assert exc.location == "/next?a=1"
    absolute = cls(URL("https://example.com/a"))
    assert absolute.headers["Location"] == "https://example.com/a"


def test_non_ascii_location_is_percent_encoded() -> None:
    exc = web.HTTPFound("/café")
    assert exc.headers["Location"] == "/caf%C3%A9"


@pytest.mark.parametrize(
    "location",
    [
        "/a\r\nSet-Cookie: x=1",
        "/a\nb",
        "/a\rb",
        "/a\x00b",
        "/a\tb",
        "https://example.com/\r\n\r\n<html>",
    ],
)
def test_location_with_control_characters_is_refused(location: str) -> None:
    # yarl would silently drop CR/LF; the refusal must happen before that.
    with pytest.raises(ValueError):
        web.HTTPFound(location)


def test_empty_location_is_refused() -> None:
    with pytest.raises(ValueError, match="location"):
        web.HTTPFound("")


def test_method_not_allowed_lists_allowed_methods_sorted() -> None:
    exc = web.HTTPMethodNotAllowed("DELETE", ["POST", "GET", "HEAD"])
    assert exc.headers["Allow"] == "GET,HEAD,POST"
    assert exc.allowed_methods == {"GET", "HEAD", "POST"}
    assert exc.method == "DELETE"


def test_method_not_allowed_refuses_injection_through_allow() -> None:
    with pytest.raises(ValueError):
        web.HTTPMethodNotAllowed("GET", ["POST\r\nX-Evil: 1"])


def test_entity_too_large_text_can_be_overridden() -> None:
    assert web.HTTPRequestEntityTooLarge(1, 2, text="too big").text == "too big"


def test_unavailable_for_legal_reasons_link_header() -> None:
    exc = web.HTTPUnavailableForLegalReasons("https://authority.example/ruling")
    assert exc.headers["Link"] == '<https://authority.example/ruling>; rel="blocked-by"'
    assert exc.link == URL("https://authority.example/ruling")
    assert "Link" not in web.HTTPUnavailableForLegalReasons(None).headers
    with pytest.raises(ValueError):
        web.HTTPUnavailableForLegalReasons("https://a.example/\r\nX: 1")


def test_bodiless_status_keeps_an_explicit_text() -> None:
    # The data is kept; the server layer must not send a body for 204/205/304.
    exc = web.HTTPNoContent(text="ignored")
    assert exc.body == b"ignored"
    assert web.HTTPNoContent.empty_body is True
