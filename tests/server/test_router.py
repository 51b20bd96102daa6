"""UrlDispatcher: matching, decoding, 404/405, names, url_for and freezing."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from treadle import server as web

from .conftest import handler, other


def status(match_info: web.UrlMappingMatchInfo) -> int:
    exc = match_info.http_exception
    return 200 if exc is None else exc.status


def test_plain_path_matches_exactly(router: web.UrlDispatcher) -> None:
    route = router.add_get("/hello", handler)
    info = router.resolve("GET", "/hello")
    assert info.route is route
    assert info.handler is handler
    assert info == {}
    assert status(router.resolve("GET", "/hello/")) == 404
    assert status(router.resolve("GET", "/hell")) == 404
    assert status(router.resolve("GET", "/Hello")) == 404


def test_trailing_slash_is_a_different_resource(router: web.UrlDispatcher) -> None:
    router.add_get("/a/", handler)
    router.add_get("/a", other)
    assert router.resolve("GET", "/a/").handler is handler
    assert router.resolve("GET", "/a").handler is other


def test_first_registered_resource_wins(router: web.UrlDispatcher) -> None:
    router.add_get("/users/me", other)
    router.add_get("/users/{name}", handler)
    assert router.resolve("GET", "/users/me").handler is other
    info = router.resolve("GET", "/users/ann")
    assert info.handler is handler
    assert info == {"name": "ann"}


def test_variable_matches_one_segment_only(router: web.UrlDispatcher) -> None:
    router.add_get("/users/{name}", handler)
    assert status(router.resolve("GET", "/users/a/b")) == 404
    assert status(router.resolve("GET", "/users/")) == 404


def test_several_variables_and_literals(router: web.UrlDispatcher) -> None:
    router.add_get("/{a}/x-{b}.json", handler)
    assert router.resolve("GET", "/1/x-2.json") == {"a": "1", "b": "2"}


def test_regex_variables(router: web.UrlDispatcher) -> None:
    router.add_get(r"/items/{id:\d+}", handler)
    router.add_get(r"/code/{code:[A-Z]{3}}", other)
    router.add_get("/files/{tail:.*}", handler, name="files")
    assert router.resolve("GET", "/items/42") == {"id": "42"}
    assert status(router.resolve("GET", "/items/4x")) == 404
    assert router.resolve("GET", "/code/ABC") == {"code": "ABC"}
    assert status(router.resolve("GET", "/code/ABCD")) == 404
    assert router.resolve("GET", "/files/a/b/c.txt") == {"tail": "a/b/c.txt"}
    assert router.resolve("GET", "/files/") == {"tail": ""}


def test_regex_sees_decoded_text(router: web.UrlDispatcher) -> None:
    router.add_get("/word/{w:[а-я]+}", handler)  # noqa: RUF001 -- Cyrillic on purpose
    assert router.resolve("GET", "/word/%D0%BC%D0%B8%D1%80") == {"w": "мир"}


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("/u/j%C3%B6rg", "jörg"),
        ("/u/j%c3%b6rg", "jörg"),
        ("/u/a%20b", "a b"),
        ("/u/a%2Fb", "a/b"),
        ("/u/a%2fb", "a/b"),
        ("/u/100%25", "100%"),
        ("/u/%252F", "%2F"),
        ("/u/%FF", "%FF"),
        ("/u/50%", "50%"),
        ("/u/a+b", "a+b"),
    ],
)
def test_matched_values_are_percent_decoded(
    router: web.UrlDispatcher, raw: str, value: str
) -> None:
    router.add_get("/u/{name}", handler)
    assert router.resolve("GET", raw) == {"name": value}


def test_encoded_and_unencoded_plain_paths_name_one_resource(router: web.UrlDispatcher) -> None:
    router.add_get("/café/a b", handler)
    for raw in ("/caf%C3%A9/a%20b", "/caf%c3%a9/a%20b", "/café/a b", "/%63af%C3%A9/a%20b"):
        assert router.resolve("GET", raw).handler is handler, raw


def test_encoded_slash_does_not_split_a_plain_path(router: web.UrlDispatcher) -> None:
    router.add_get("/a/b", handler)
    assert status(router.resolve("GET", "/a%2Fb")) == 404


def test_get_adds_head_unless_told_not_to(router: web.UrlDispatcher) -> None:
    router.add_get("/with", handler)
    router.add_get("/without", handler, allow_head=False)
    assert router.resolve("HEAD", "/with").route.method == "HEAD"
    assert router.resolve("HEAD", "/with").handler is handler
    info = router.resolve("HEAD", "/without")
    assert isinstance(info.http_exception, web.HTTPMethodNotAllowed)
    assert info.http_exception.headers["Allow"] == "GET"


def test_404_when_no_path_matches(router: web.UrlDispatcher) -> None:
    router.add_get("/a", handler)
    info = router.resolve("GET", "/b")
    assert isinstance(info, web.MatchInfoError)
    assert isinstance(info.http_exception, web.HTTPNotFound)
    assert repr(info) == "<MatchInfoError 404: Not Found>"


def test_405_lists_methods_of_every_matching_resource(router: web.UrlDispatcher) -> None:
    router.add_get("/users/{name}", handler)
    router.add_post("/users/{id:\\d+}", handler)
    router.add_put("/other", handler)
    info = router.resolve("DELETE", "/users/12")
    exc = info.http_exception
    assert isinstance(exc, web.HTTPMethodNotAllowed)
    assert exc.headers["Allow"] == "GET,HEAD,POST"
    assert exc.method == "DELETE"
    assert exc.allowed_methods == {"GET", "HEAD", "POST"}


async def test_failed_match_handler_raises_its_exception(router: web.UrlDispatcher) -> None:
    info = router.resolve("GET", "/missing")
    with pytest.raises(web.HTTPNotFound) as raised:
        await info.handler(object())
    assert raised.value is info.http_exception
    route = info.route
    assert isinstance(route, web.SystemRoute)
    assert (route.method, route.resource, route.status) == ("*", None, 404)
    assert repr(route) == "<SystemRoute 404: Not Found>"
    assert info.get_info() == {"http_exception": info.http_exception}
    assert await info.expect_handler(FakeRequest("100-continue")) is None
    assert info.route.name is None
    with pytest.raises(RuntimeError):
        info.route.url_for()


def test_method_any_answers_every_method(router: web.UrlDispatcher) -> None:
    router.add_route("*", "/any", handler)
    for method in ("GET", "POST", "PROPFIND", "BREW"):
        assert router.resolve(method, "/any").handler is handler
    assert router.resolve("GET", "/any").route.method == web.METH_ANY


def test_specific_method_before_any_takes_precedence(router: web.UrlDispatcher) -> None:
    resource = router.add_resource("/r")
    resource.add_route("GET", other)
    resource.add_route("*", handler)
    assert router.resolve("GET", "/r").handler is other
    assert router.resolve("POST", "/r").handler is handler


def test_methods_are_case_sensitive_but_registered_upper(router: web.UrlDispatcher) -> None:
    route = router.add_route("post", "/p", handler)
    assert route.method == "POST"
    assert router.resolve("POST", "/p").handler is handler
    assert status(router.resolve("post", "/p")) == 405


@pytest.mark.parametrize("method", ["GE T", "GET\r\n", "", "GÉT"])
def test_invalid_method_is_refused(router: web.UrlDispatcher, method: str) -> None:
    with pytest.raises(ValueError):
        router.add_route(method, "/", handler)


def test_duplicate_method_on_one_resource_is_refused(router: web.UrlDispatcher) -> None:
    resource = router.add_resource("/x")
    resource.add_route("GET", handler)
    with pytest.raises(RuntimeError, match="never be executed"):
        resource.add_route("GET", other)
    resource.add_route("*", other)
    with pytest.raises(RuntimeError):
        resource.add_route("POST", other)


def test_add_resource_reuses_the_last_resource_with_same_path_and_name(
    router: web.UrlDispatcher,
) -> None:
    router.add_get("/same", handler, name="same")
    router.add_post("/same", handler, name="same")
    assert len(router.resources()) == 1
    router.add_put("/same", handler)  # different name: a new resource
    assert len(router.resources()) == 2


def test_every_add_shortcut_registers_its_method(router: web.UrlDispatcher) -> None:
    router.add_head("/r", handler)
    router.add_options("/r", handler)
    router.add_post("/r", handler)
    router.add_put("/r", handler)
    router.add_patch("/r", handler)
    router.add_delete("/r", handler)
    router.add_get("/r", handler, allow_head=False)
    methods = [route.method for route in router.routes()]
    assert methods == ["HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "GET"]
    for method in methods:
        assert router.resolve(method, "/r").route.method == method


def test_handlers_must_be_async(router: web.UrlDispatcher) -> None:
    def sync_handler(request: Any) -> None:
        return None

    with pytest.raises(TypeError, match="async"):
        router.add_get("/", sync_handler)
    with pytest.raises(TypeError):
        router.add_get("/", "not callable")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        router.add_get("/", handler, expect_handler=sync_handler)
    router.add_get("/partial", functools.partial(handler))

    class Callable:
        async def __call__(self, request: Any) -> None:
            return None

    router.add_get("/object", Callable())


def test_path_must_start_with_slash(router: web.UrlDispatcher) -> None:
    with pytest.raises(ValueError):
        router.add_get("relative", handler)
    with pytest.raises(ValueError):
        router.add_get("{name}", handler)


@pytest.mark.parametrize("path", ["/a/{", "/a/}", "/{a}{", "/{1abc}", "/{a:(}", "/{a}/{a}"])
def test_malformed_dynamic_paths_are_refused(router: web.UrlDispatcher, path: str) -> None:
    with pytest.raises(ValueError):
        router.add_get(path, handler)


def test_non_slash_paths_never_match(router: web.UrlDispatcher, tmp_path: Path) -> None:
    router.add_static("/", tmp_path)  # a root prefix is "": it would take "" and "*"
    router.add_route("*", "/{tail:.*}", handler)
    assert status(router.resolve("GET", "*")) == 404
    assert status(router.resolve("GET", "http://example.com/")) == 404
    assert status(router.resolve("GET", "")) == 404


def test_named_resources_mapping(router: web.UrlDispatcher) -> None:
    router.add_get("/", handler, name="index")
    router.add_get("/users/{name}", handler, name="user")
    router.add_get("/anon", handler)
    assert list(router) == ["index", "user"]
    assert len(router) == 2
    assert "user" in router and "anon" not in router
    assert router["user"].canonical == "/users/{name}"
    assert dict(router.named_resources()) == {"index": router["index"], "user": router["user"]}
    with pytest.raises(TypeError):
        router.named_resources()["x"] = router["index"]  # type: ignore[index]
    assert len(router.resources()) == 3
    assert router["index"] in router.resources()
    assert len(router.routes()) == 6
    assert router.resolve("GET", "/").route in router.routes()
    assert router.resolve("GET", "/").route.name == "index"


@pytest.mark.parametrize("name", ["a b", "1abc", "class", "a.for", "", "a..b"])
def test_bad_route_names_are_refused(router: web.UrlDispatcher, name: str) -> None:
    with pytest.raises(ValueError):
        router.add_get("/", handler, name=name)


def test_dotted_names_and_duplicates(router: web.UrlDispatcher) -> None:
    router.add_get("/a", handler, name="api.v1:users-list")
    with pytest.raises(ValueError, match="Duplicate"):
        router.add_get("/b", handler, name="api.v1:users-list")


def test_url_for_plain_and_dynamic(router: web.UrlDispatcher) -> None:
    router.add_get("/", handler, name="index")
    router.add_get("/users/{name}/posts/{id:\\d+}", handler, name="post")
    router.add_get("/files/{tail:.*}", handler, name="files")
    assert router["index"].url_for() == URL("/")
    url = router["post"].url_for(name="ann lee", id="7")
    assert isinstance(url, URL)
    assert url.raw_path == "/users/ann%20lee/posts/7"
    assert router["post"].url_for(name="a/b", id="1").raw_path == "/users/a%2Fb/posts/1"
    assert router["files"].url_for(tail="x/y z.txt").raw_path == "/files/x/y%20z.txt"
    with pytest.raises(KeyError):
        router["post"].url_for(name="x")
    with pytest.raises(TypeError):
        router["post"].url_for(name="x", id=7)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="UTF-8"):
        router["post"].url_for(name="\ud800", id="1")


def test_url_with_query(router: web.UrlDispatcher) -> None:
    router.add_get("/search/{kind}", handler, name="search")
    url = router["search"].url(parts={"kind": "books"}, query={"q": "a b", "page": 2})
    assert str(url) == "/search/books?q=a+b&page=2"
    assert router["search"].url_for(kind="x").with_query(q="1") == URL("/search/x?q=1")
    route = router.resolve("GET", "/search/x").route
    assert route.url_for(kind="y") == URL("/search/y")


def test_resource_reprs_and_info(router: web.UrlDispatcher) -> None:
    plain = router.add_resource("/p", name="p")
    dynamic = router.add_resource(r"/d/{x:\d+}")
    assert repr(plain) == "<PlainResource 'p'  /p>"
    assert "DynamicResource" in repr(dynamic) and "/d/{x}" in repr(dynamic)
    assert plain.get_info() == {"path": "/p"}
    assert dynamic.get_info()["formatter"] == "/d/{x}"
    assert dynamic.get_info()["pattern"].pattern == r"/d/(?P<x>\d+)"


def test_freeze_refuses_further_registration(router: web.UrlDispatcher) -> None:
    resource = router.add_resource("/a")
    resource.add_route("GET", handler)
    router.freeze()
    assert router.frozen
    for register in (
        lambda: router.add_get("/b", handler),
        lambda: router.add_route("POST", "/a", handler),
        lambda: router.add_resource("/c"),
        lambda: resource.add_route("POST", handler),
        lambda: router.register_resource(web.PlainResource("/d")),
    ):
        with pytest.raises(RuntimeError):
            register()
    assert router.resolve("GET", "/a").handler is handler


def test_empty_path_becomes_root_on_freeze(router: web.UrlDispatcher) -> None:
    resource = router.add_resource("")
    resource.add_route("GET", handler)
    assert status(router.resolve("GET", "/")) == 404
    router.freeze()
    assert router.resolve("GET", "/").handler is handler
    assert resource.canonical == "/"


def test_add_prefix_moves_plain_and_dynamic_resources() -> None:
    plain = web.PlainResource("/a")
    dynamic = web.DynamicResource("/b/{x}")
    plain.add_prefix("/sub")
    dynamic.add_prefix("/sub")
    assert plain.canonical == "/sub/a"
    assert dynamic.canonical == "/sub/b/{x}"
    assert dynamic.url_for(x="1") == URL("/sub/b/1")
    # raw_match (add_resource reusing the last resource) sees the prefixed path.
    assert plain.raw_match("/sub/a") and not plain.raw_match("/a")
    assert dynamic.raw_match("/sub/b/{x}") and not dynamic.raw_match("/b/{x}")
    regex = web.DynamicResource(r"/c/{n:\d+}")
    regex.add_prefix("/sub")
    assert regex.raw_match(r"/sub/c/{n:\d+}") and not regex.raw_match(r"/c/{n:\d+}")
    with pytest.raises(ValueError):
        plain.add_prefix("/trailing/")
    with pytest.raises(ValueError):
        plain.add_prefix("nope")


def test_match_info_app_stack() -> None:
    router = web.UrlDispatcher()
    router.add_get("/", handler)
    info = router.resolve("GET", "/")
    outer, inner = object(), object()
    info.add_app(inner)
    info.add_app(outer)
    assert info.apps == (outer, inner)
    assert info.current_app is inner
    with info.set_current_app(outer):
        assert info.current_app is outer
    assert info.current_app is inner
    with pytest.raises(RuntimeError), info.set_current_app(object()):
        pass
    info.freeze()
    with pytest.raises(RuntimeError):
        info.add_app(object())
    assert info.get_info() == {"path": "/"}
    assert "MatchInfo" in repr(info)


class FakeRequest:
    def __init__(self, expect: str, version: tuple[int, int] = (1, 1)) -> None:
        self.method = "POST"
        self.headers = {"Expect": expect}
        self.version = version


async def test_default_expect_handler(router: web.UrlDispatcher) -> None:
    router.add_post("/upload", handler)
    info = router.resolve("POST", "/upload")
    assert await info.expect_handler(FakeRequest("100-continue")) is None
    assert await info.expect_handler(FakeRequest("100-Continue")) is None
    with pytest.raises(web.HTTPExpectationFailed):
        await info.expect_handler(FakeRequest("something-else"))
    # Expect is an HTTP/1.1 mechanism: an HTTP/1.0 request's is ignored.
    assert await info.expect_handler(FakeRequest("something-else", (1, 0))) is None


async def test_custom_expect_handler_is_used(router: web.UrlDispatcher) -> None:
    seen = []

    async def expect(request: Any) -> str:
        seen.append(request)
        return "custom"

    router.add_post("/upload", handler, expect_handler=expect)
    request = FakeRequest("100-continue")
    assert await router.resolve("POST", "/upload").expect_handler(request) == "custom"
    assert seen == [request]
