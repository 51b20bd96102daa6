"""Application: routing through the runtime, middlewares, sub-apps, signals, state."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from treadle.server import HTTPForbidden, HTTPNotFound, Response, json_response
from treadle.server import _routedef as routes
from treadle.server._app import Application
from treadle.server._app_support import AppKey, CleanupError
from treadle.server._middlewares import middleware

from ._serving import raw_connection, read_response, serve

COUNTER = AppKey("COUNTER", int)
NAME = AppKey("NAME", str)


def make_app(**kwargs: Any) -> Application:
    app = Application(**kwargs)

    async def index(request: Any) -> Response:
        return Response(text="index")

    async def user(request: Any) -> Response:
        return json_response({"name": request.match_info["name"], "app": request.app is app})

    async def forbidden(request: Any) -> Response:
        raise HTTPForbidden(text="go away")

    async def returned(request: Any) -> Any:
        return HTTPNotFound(text="returned 404")

    app.add_routes(
        [
            routes.get("/", index),
            routes.get("/users/{name}", user),
            routes.get("/forbidden", forbidden),
            routes.get("/returned", returned),
        ]
    )
    return app


async def get(url: str, *paths: str, **kwargs: Any) -> list[httpx.Response]:
    async with httpx.AsyncClient() as client:
        with anyio.fail_after(10):
            return [await client.get(url + path, **kwargs) for path in paths]


async def test_routes_404_405_and_http_exceptions() -> None:
    async with serve(make_app()) as (url, _):
        index, user, missing, forbidden, returned = await get(
            url, "/", "/users/ann", "/nope", "/forbidden", "/returned"
        )
        async with httpx.AsyncClient() as client:
            with anyio.fail_after(10):
                not_allowed = await client.post(url + "/")
    assert (index.status_code, index.text) == (200, "index")
    assert user.json() == {"name": "ann", "app": True}
    assert missing.status_code == 404
    assert (forbidden.status_code, forbidden.text) == (403, "go away")
    assert (returned.status_code, returned.text) == (404, "returned 404")
    assert not_allowed.status_code == 405
    assert "GET" in not_allowed.headers["allow"]


async def test_middlewares_run_in_order_around_the_handler() -> None:
    calls: list[str] = []

    @middleware
    async def outer(request: Any, handler: Any) -> Any:
        calls.append("outer in")
        response = await handler(request)
        calls.append("outer out")
        response.headers["X-Outer"] = "1"
        return response

    @middleware
    async def inner(request: Any, handler: Any) -> Any:
        calls.append("inner in")
        try:
            return await handler(request)
        finally:
            calls.append("inner out")

    async with serve(make_app(middlewares=[outer, inner])) as (url, _):
        (response,) = await get(url, "/")
    assert response.headers["x-outer"] == "1"
    assert calls == ["outer in", "inner in", "inner out", "outer out"]


async def test_middleware_sees_http_exceptions_and_404s() -> None:
    seen: list[int] = []

    @middleware
    async def catcher(request: Any, handler: Any) -> Any:
        try:
            return await handler(request)
        except HTTPNotFound:
            seen.append(404)
            return Response(text="custom 404", status=404)

    async with serve(make_app(middlewares=[catcher])) as (url, _):
        (response,) = await get(url, "/missing")
    assert (response.status_code, response.text) == (404, "custom 404")
    assert seen == [404]


async def test_subapp_middlewares_state_and_current_app() -> None:
    order: list[str] = []
    root = make_app()
    sub = Application()
    sub[NAME] = "sub"
    root[NAME] = "root"

    def tracer(label: str) -> Any:
        @middleware
        async def mw(request: Any, handler: Any) -> Any:
            order.append(f"{label}:{request.match_info.current_app[NAME]}")
            return await handler(request)

        return mw

    root.middlewares.append(tracer("root"))
    sub.middlewares.append(tracer("sub"))

    async def hello(request: Any) -> Response:
        return Response(text=f"{request.app[NAME]} {request.config_dict[NAME]}")

    sub.router.add_get("/hello", hello)
    root.add_subapp("/sub/", sub)
    async with serve(root) as (url, _):
        (response,) = await get(url, "/sub/hello")
        (top,) = await get(url, "/")
    assert response.text == "sub sub"
    assert top.text == "index"
    assert order == ["root:root", "sub:sub", "root:root"]


async def test_domain_subapp() -> None:
    root = Application()
    api = Application()

    async def api_index(request: Any) -> Response:
        return Response(text="api")

    async def index(request: Any) -> Response:
        return Response(text="index")

    api.router.add_get("/", api_index)
    root.add_domain("api.example.com", api)  # resources match in order: the domain first
    root.router.add_get("/", index)
    async with serve(root) as (url, _):
        (on_domain,) = await get(url, "/", headers={"Host": "api.example.com"})
        (elsewhere,) = await get(url, "/", headers={"Host": "www.example.com"})
    assert on_domain.text == "api"
    assert elsewhere.text == "index"


async def test_expect_handler_per_route() -> None:
    app = Application()

    async def check_auth(request: Any) -> Any:
        if request.headers.get("Authorization") != "yes":
            raise HTTPForbidden(text="no upload for you")
        return None

    async def upload(request: Any) -> Response:
        return Response(text=f"{len(await request.read())} bytes")

    app.router.add_post("/up", upload, expect_handler=check_auth)
    async with serve(app) as (url, _):
        async with raw_connection(url) as stream:
            await stream.send(
                b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
            )
            refused = await read_response(stream, bytearray())
        async with raw_connection(url) as stream:
            await stream.send(
                b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nAuthorization: yes\r\n"
                b"Expect: 100-continue\r\n\r\n"
            )
            with anyio.fail_after(5):
                interim = await stream.receive()
            await stream.send(b"abc")
            accepted = await read_response(stream, bytearray())
    assert refused.startswith(b"HTTP/1.1 403 ")
    assert refused.endswith(b"no upload for you")
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert accepted.endswith(b"3 bytes")


async def test_unknown_expectation_is_417() -> None:
    async with serve(make_app()) as (url, _), raw_connection(url) as stream:
        await stream.send(b"GET / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n")
        response = await read_response(stream, bytearray())
    assert response.startswith(b"HTTP/1.1 417 ")


async def test_client_max_size_gives_413() -> None:
    app = Application(client_max_size=10)

    async def upload(request: Any) -> Response:
        return Response(text=str(len(await request.read())))

    app.router.add_post("/", upload)
    async with serve(app) as (url, _), httpx.AsyncClient() as client:
        with anyio.fail_after(10):
            small = await client.post(url + "/", content=b"x" * 10)
            big = await client.post(url + "/", content=b"x" * 11)
    assert small.text == "10"
    assert big.status_code == 413


async def test_signals_and_cleanup_ctx_order() -> None:
    events: list[str] = []
    app = Application()
    sub = Application()

    async def startup(a: Application) -> None:
        events.append(f"startup {a is app}")

    async def ctx(a: Application) -> AsyncIterator[None]:
        events.append("ctx enter")
        yield
        events.append("ctx exit")

    async def sub_cleanup(a: Application) -> None:
        events.append(f"sub cleanup {a is sub}")

    app.on_startup.append(startup)
    app.cleanup_ctx.append(ctx)
    sub.on_cleanup.append(sub_cleanup)
    app.add_subapp("/s", sub)
    app.freeze()
    await app.startup()
    await app.shutdown()
    await app.cleanup()
    assert events == ["ctx enter", "startup True", "ctx exit", "sub cleanup True"]


async def test_cleanup_errors_are_collected() -> None:
    app = Application()

    def failing(message: str) -> Any:
        async def ctx(a: Application) -> AsyncIterator[None]:
            yield
            raise ValueError(message)

        return ctx

    app.cleanup_ctx.append(failing("one"))
    app.cleanup_ctx.append(failing("two"))
    app.freeze()
    await app.startup()
    with pytest.raises(CleanupError) as info:
        await app.cleanup()
    assert sorted(str(exc) for exc in info.value.exceptions) == ["one", "two"]


def test_frozen_app_refuses_changes() -> None:
    app = make_app()
    app.freeze()
    with pytest.raises(RuntimeError):
        app.router.add_get("/late", lambda r: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(RuntimeError):
        app.on_startup.append(lambda a: None)
    with pytest.raises(RuntimeError):
        app.add_subapp("/x", Application())
    with pytest.warns(DeprecationWarning):
        app[COUNTER] = 1


def test_state_keys_and_identity() -> None:
    app = Application()
    app[COUNTER] = 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert app[COUNTER] == 3
    with pytest.warns(UserWarning):
        app["plain"] = "value"
    assert app.get("missing") is None
    assert len(app) == 2 and bool(Application())
    assert app() is app
    assert "COUNTER" in repr(COUNTER) and "int" in repr(COUNTER)
    assert Application() != Application()


def test_subapp_rules() -> None:
    app = Application()
    with pytest.raises(ValueError):
        app.add_subapp("/", Application())
    frozen = Application()
    frozen.freeze()
    with pytest.raises(RuntimeError):
        app.add_subapp("/f", frozen)


def test_access_log_class_must_be_an_access_logger() -> None:
    with pytest.raises(TypeError):
        Application()._make_handler(access_log_class=object)  # type: ignore[arg-type]


def test_middlewares_must_be_async() -> None:
    with pytest.raises(TypeError):
        Application(middlewares=[lambda request, handler: None])


async def test_cached_plain_routes_keep_their_app_stack() -> None:
    root = Application()
    sub = Application()
    sub[NAME] = "sub"
    seen: list[Any] = []

    async def plain(request: Any) -> Response:
        seen.append((request.app, request.match_info.apps))
        return Response(text=request.path)

    sub.router.add_get("/plain", plain)
    root.add_subapp("/sub", sub)
    async with serve(root) as (url, _):
        responses = await get(url, "/sub/plain", "/sub/plain", "/sub/%70lain", "/sub/other")
    assert [r.status_code for r in responses] == [200, 200, 200, 404]
    assert seen == [(sub, (root, sub))] * 3


async def test_an_early_413_reaches_a_client_still_uploading() -> None:
    # The server answers before the 8 MiB body is read; closing at once would reset
    # the connection and lose the answer (the server drains the rest instead).
    app = Application()

    async def upload(request: Any) -> Response:
        return Response(text=str(len(await request.read())))

    app.router.add_post("/", upload)
    async with serve(app) as (url, _), httpx.AsyncClient() as client:
        with anyio.fail_after(20):
            big = await client.post(url + "/", content=b"x" * (8 * 1024 * 1024))
    assert big.status_code == 413


async def test_on_response_prepare_runs_for_every_app_on_the_path() -> None:
    root = Application()
    sub = Application()

    def tagger(tag: str) -> Any:
        async def on_prepare(request: Any, response: Any) -> None:
            response.headers[f"X-{tag}"] = "1"

        return on_prepare

    async def handler(request: Any) -> Response:
        return Response(text="tagged")

    root.on_response_prepare.append(tagger("Root"))
    sub.on_response_prepare.append(tagger("Sub"))
    sub.router.add_get("/h", handler)
    root.add_subapp("/s", sub)
    async with serve(root) as (url, _):
        (inner,) = await get(url, "/s/h")
        (missing,) = await get(url, "/missing")
    assert inner.headers["x-root"] == inner.headers["x-sub"] == "1"
    assert missing.status_code == 404
    assert missing.headers["x-root"] == "1"
    assert "x-sub" not in missing.headers


async def test_static_files_through_the_runtime(tmp_path: Any) -> None:
    content = bytes(range(256)) * 400
    (tmp_path / "data.bin").write_bytes(content)
    app = Application()
    app.router.add_static("/static", tmp_path)
    async with serve(app) as (url, _), httpx.AsyncClient() as client:
        with anyio.fail_after(10):
            whole = await client.get(url + "/static/data.bin")
            part = await client.get(url + "/static/data.bin", headers={"Range": "bytes=100-199"})
            escape = await client.get(url + "/static/%2e%2e/%2e%2e/etc/passwd")
    assert whole.status_code == 200
    assert whole.content == content
    assert part.status_code == 206
    assert part.content == content[100:200]
    assert escape.status_code in (403, 404)


async def test_old_style_middleware_factories_still_work() -> None:
    # aiohttp 3.x: an unmarked middleware is a factory (app, handler) -> handler.
    calls: list[Any] = []
    app = make_app()

    async def factory(app_arg: Any, handler: Any) -> Any:
        async def middleware_handler(request: Any) -> Any:
            calls.append(app_arg is app)
            response = await handler(request)
            response.headers["X-Legacy"] = "yes"
            return response

        return middleware_handler

    @middleware
    async def modern(request: Any, handler: Any) -> Any:
        calls.append("modern")
        return await handler(request)

    app.middlewares.extend([factory, modern])
    with pytest.warns(DeprecationWarning, match="old-style middleware"):
        app.freeze()
    async with serve(app) as (url, _):
        (response,) = await get(url, "/")
    assert response.headers["x-legacy"] == "yes"
    assert calls == [True, "modern"]
