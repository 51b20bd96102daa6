"""Sub-application resources: prefix mounts and domain rules, against a minimal app."""

from __future__ import annotations

import pytest
from yarl import URL

from treadle import server as web

from .conftest import handler, other


class App:
    """The least an Application must offer to be mounted: a router."""

    def __init__(self) -> None:
        self.router = web.UrlDispatcher()

    def __repr__(self) -> str:
        return "<App>"


def mount(prefix: str) -> tuple[web.UrlDispatcher, App]:
    parent, sub = web.UrlDispatcher(), App()
    sub.router.add_get("/", handler, name="home")
    sub.router.add_get("/users/{name}", other, name="user")
    parent.register_resource(web.PrefixedSubAppResource(prefix, sub))
    return parent, sub


def test_prefix_routes_into_the_sub_app() -> None:
    parent, sub = mount("/admin")
    info = parent.resolve("GET", "/admin/users/ann")
    assert info.handler is other
    assert info == {"name": "ann"}
    assert info.apps == (sub,)
    assert parent.resolve("GET", "/admin/").handler is handler


def test_sub_app_urls_carry_the_prefix() -> None:
    _, sub = mount("/admin")
    assert sub.router["user"].url_for(name="x y") == URL("/admin/users/x%20y")
    assert sub.router["home"].canonical == "/admin/"


def test_prefix_matches_whole_segments_only() -> None:
    parent, _ = mount("/admin")
    assert isinstance(parent.resolve("GET", "/administrator/").http_exception, web.HTTPNotFound)
    assert isinstance(parent.resolve("GET", "/other").http_exception, web.HTTPNotFound)


def test_inside_the_prefix_a_miss_is_the_sub_apps_answer() -> None:
    parent, sub = mount("/admin")
    parent.add_get("/admin/fallback", handler)  # after the mount: never reached
    info = parent.resolve("GET", "/admin/fallback")
    assert isinstance(info.http_exception, web.HTTPNotFound)
    assert info.apps == (sub,)


def test_method_not_allowed_from_the_sub_app() -> None:
    parent, _ = mount("/admin")
    exc = parent.resolve("POST", "/admin/users/x").http_exception
    assert isinstance(exc, web.HTTPMethodNotAllowed)
    assert exc.headers["Allow"] == "GET,HEAD"


def test_nested_prefixes_compose() -> None:
    inner = App()
    inner.router.add_get("/leaf", handler, name="leaf")
    middle = App()
    middle.router.register_resource(web.PrefixedSubAppResource("/b", inner))
    root = web.UrlDispatcher()
    root.register_resource(web.PrefixedSubAppResource("/a", middle))
    info = root.resolve("GET", "/a/b/leaf")
    assert info.handler is handler
    assert info.apps == (middle, inner)
    assert inner.router["leaf"].url_for() == URL("/a/b/leaf")


def test_prefixed_resource_introspection() -> None:
    parent, sub = mount("/admin")
    (resource,) = parent.resources()
    assert isinstance(resource, web.PrefixedSubAppResource)
    assert resource.canonical == "/admin"
    assert resource.get_info() == {"app": sub, "prefix": "/admin"}
    assert len(resource) == 4
    assert {route.method for route in resource} == {"GET", "HEAD"}
    assert repr(resource) == "<PrefixedSubAppResource /admin -> <App>>"
    with pytest.raises(RuntimeError):
        resource.url_for()
    with pytest.raises(ValueError):
        web.PrefixedSubAppResource("/admin/", App())


@pytest.mark.parametrize(
    ("domain", "canonical"),
    [
        ("example.com", "example.com"),
        ("Example.COM.", "example.com"),
        ("example.com:80", "example.com"),
        ("example.com:8080", "example.com:8080"),
        ("xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),
    ],
)
def test_domain_normalisation(domain: str, canonical: str) -> None:
    assert web.Domain(domain).canonical == canonical


@pytest.mark.parametrize(
    "domain", ["", ".", "http://example.com", "-bad.com", "a_b.com", "exa mple.com", "a/b"]
)
def test_invalid_domains_are_refused(domain: str) -> None:
    with pytest.raises(ValueError):
        web.Domain(domain)


def test_domain_must_be_str() -> None:
    with pytest.raises(TypeError):
        web.Domain(b"example.com")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("example.com", True),
        ("EXAMPLE.com", True),
        ("example.com:80", True),
        ("example.com.", True),
        ("example.com:8080", False),
        ("www.example.com", False),
        ("example.com.evil.org", False),
        ("", False),
        (None, False),
    ],
)
def test_domain_matching(host: str | None, expected: bool) -> None:
    assert web.Domain("example.com").match(host) is expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("api.example.com", True),
        ("API.Example.com", True),
        ("a.b.example.com", True),
        ("api.example.com:80", True),
        ("example.com", False),
        ("apiexample.com", False),
        ("api.example.com.evil.org", False),
        ("api.example.com:8080", False),
    ],
)
def test_wildcard_domain_matching(host: str, expected: bool) -> None:
    rule = web.domain_rule("*.example.com")
    assert isinstance(rule, web.MaskDomain)
    assert rule.match(host) is expected


def test_domain_rule_picks_plain_domain_without_star() -> None:
    assert type(web.domain_rule("example.com")) is web.Domain


def test_matched_sub_app_routes_by_host() -> None:
    parent, api = web.UrlDispatcher(), App()
    api.router.add_get("/v1", handler)
    parent.register_resource(web.MatchedSubAppResource(web.domain_rule("*.example.com"), api))
    parent.add_get("/v1", other)
    info = parent.resolve("GET", "/v1", "api.example.com")
    assert info.handler is handler
    assert info.apps == (api,)
    assert parent.resolve("GET", "/v1", "example.org").handler is other
    assert parent.resolve("GET", "/v1").handler is other
    (resource, _) = parent.resources()
    assert isinstance(resource, web.MatchedSubAppResource)
    assert resource.canonical == r".*\.example\.com"
    assert resource.get_info()["app"] is api
    exc = parent.resolve("DELETE", "/v1", "api.example.com").http_exception
    assert isinstance(exc, web.HTTPMethodNotAllowed)
