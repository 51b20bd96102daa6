"""Route definitions (web.get, RouteTableDef) and class-based views."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from treadle import server as web

from .conftest import handler, other


def test_module_level_definitions_register(router: web.UrlDispatcher) -> None:
    defs = [
        web.get("/", handler, name="index"),
        web.post("/p", handler),
        web.put("/p", other),
        web.patch("/p", handler),
        web.delete("/p", handler),
        web.head("/h", handler),
        web.options("/o", handler),
        web.route("PROPFIND", "/dav", handler),
        web.route("TRACE", "/t", handler),
        web.route("CONNECT", "/c", handler),
        web.get("/nohead", handler, allow_head=False),
    ]
    routes = router.add_routes(defs)
    assert [r.method for r in routes] == [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND", "TRACE",
        "CONNECT", "GET"
    ]  # fmt: skip
    assert router.resolve("HEAD", "/").handler is handler
    assert router["index"].url_for().path == "/"
    assert router.resolve("PUT", "/p").handler is other
    assert router.resolve("PROPFIND", "/dav").handler is handler
    assert router.resolve("HEAD", "/nohead").http_exception is not None


def test_route_def_is_data() -> None:
    definition = web.get("/x", handler, name="x")
    assert isinstance(definition, web.RouteDef)
    assert (definition.method, definition.path, definition.handler) == ("GET", "/x", handler)
    assert definition.kwargs == {"name": "x", "allow_head": True}
    assert repr(definition) == "<RouteDef GET /x -> 'handler', allow_head=True, name='x'>"
    with pytest.raises(AttributeError):
        definition.path = "/y"  # type: ignore[misc]


def test_route_table_def_decorators(router: web.UrlDispatcher, tmp_path: Path) -> None:
    routes = web.RouteTableDef()

    @routes.get("/", name="index")
    async def index(request: Any) -> str:
        return "index"

    @routes.post("/items")
    @routes.put("/items")
    async def items(request: Any) -> str:
        return "items"

    @routes.patch("/items")
    @routes.delete("/items")
    @routes.options("/items")
    @routes.head("/only-head")
    @routes.route("BREW", "/pot")
    async def misc(request: Any) -> str:
        return "misc"

    @routes.view("/view")
    class MyView(web.View):
        async def get(self) -> str:
            return "view"

    routes.static("/static", tmp_path, name="files")

    assert len(routes) == 10
    assert isinstance(routes[0], web.RouteDef)
    assert routes[0].handler is index  # type: ignore[attr-defined]
    assert isinstance(routes[-1], web.StaticDef)
    assert len(routes[1:3]) == 2
    assert routes[0] in routes
    assert repr(routes) == "<RouteTableDef count=10>"
    assert index.__name__ == "index"  # decorators hand the function back

    registered = router.add_routes(routes)
    assert len(registered) == 11  # one route per definition, GET and HEAD for the static one
    assert router.resolve("GET", "/").handler is index
    assert router.resolve("PUT", "/items").handler is items
    assert router.resolve("OPTIONS", "/items").handler is misc
    assert router.resolve("BREW", "/pot").handler is misc
    assert router.resolve("DELETE", "/view").handler is MyView
    assert router["files"].get_info()["directory"] == tmp_path.resolve()


def test_static_def(router: web.UrlDispatcher, tmp_path: Path) -> None:
    definition = web.static("/s", tmp_path, show_index=True)
    assert repr(definition) == f"<StaticDef /s -> {tmp_path}, show_index=True>"
    routes = router.add_routes([definition])
    assert [r.method for r in routes] == ["GET", "HEAD"]
    (resource,) = router.resources()
    assert isinstance(resource, web.StaticResource) and resource.show_index


class FakeRequest:
    def __init__(self, method: str) -> None:
        self.method = method


class Greeting(web.View):
    async def get(self) -> str:
        return f"hello from {self.request.method}"

    async def post(self) -> str:
        return "posted"


def test_view_is_registered_for_every_method(router: web.UrlDispatcher) -> None:
    router.add_view("/greet", Greeting)
    router.add_routes([web.view("/greet2", Greeting)])
    for path in ("/greet", "/greet2"):
        info = router.resolve("PATCH", path)
        assert info.handler is Greeting
        assert info.route.method == "*"


async def test_view_dispatches_on_the_request_method() -> None:
    request = FakeRequest("GET")
    view = Greeting(request)
    assert view.request is request
    assert await view == "hello from GET"
    assert await Greeting(FakeRequest("POST")) == "posted"


# REQUEST and _ITER name attributes of the view that are not method handlers.
@pytest.mark.parametrize("method", ["DELETE", "PUT", "BREW", "get", "REQUEST", "_ITER"])
async def test_view_answers_405_with_its_methods(method: str) -> None:
    with pytest.raises(web.HTTPMethodNotAllowed) as info:
        await Greeting(FakeRequest(method))
    assert info.value.headers["Allow"] == "GET,POST"
    assert info.value.method == method


async def test_view_through_the_router(router: web.UrlDispatcher) -> None:
    router.add_view("/greet", Greeting)
    request = FakeRequest("GET")
    assert await router.resolve("GET", "/greet").handler(request) == "hello from GET"


def test_non_view_classes_are_not_handlers(router: web.UrlDispatcher) -> None:
    class NotAView:
        pass

    with pytest.raises(TypeError):
        router.add_view("/x", NotAView)
