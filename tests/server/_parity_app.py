"""An application using the routing and response API, written once for any ``web``.

``make_app(web, root)`` builds it with ``treadle.web`` or ``aiohttp.web``; run as
``python -m tests.server._parity_app ROOT`` it serves the aiohttp build and prints
``PORT <n>``. The parity test sends the same raw requests to both.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any


def make_app(web: ModuleType, root: Path) -> Any:
    routes = web.RouteTableDef()

    @routes.get("/", name="index")
    async def index(request: Any) -> Any:
        return web.Response(text="index")

    @routes.get("/users/{name}", name="user")
    async def user(request: Any) -> Any:
        url = request.app.router["user"].url_for(name="ann b")
        return web.json_response({"name": request.match_info["name"], "url": str(url)})

    @routes.get(r"/num/{n:\d+}")
    async def num(request: Any) -> Any:
        return web.Response(text=str(int(request.match_info["n"]) * 2))

    @routes.post("/items")
    async def create(request: Any) -> Any:
        return web.json_response({"created": await request.json()}, status=201)

    @routes.view("/view")
    class Thing(web.View):
        async def get(self) -> Any:
            return web.Response(text="view get")

        async def post(self) -> Any:
            return web.Response(text="view post " + await self.request.text())

    @routes.get("/raise/{status:\\d+}")
    async def raise_status(request: Any) -> Any:
        status = int(request.match_info["status"])
        cls = {
            400: web.HTTPBadRequest,
            401: web.HTTPUnauthorized,
            403: web.HTTPForbidden,
            409: web.HTTPConflict,
            418: None,
            500: web.HTTPInternalServerError,
            503: web.HTTPServiceUnavailable,
        }[status]
        if cls is None:
            return web.Response(status=418, text="teapot")
        raise cls(text=f"raised {status}")

    @routes.get("/return-redirect")
    async def return_redirect(request: Any) -> Any:
        return web.HTTPFound("/users/x")  # returned, not raised (deprecated but works)

    @routes.get("/redirect")
    async def redirect(request: Any) -> Any:
        raise web.HTTPSeeOther(location=request.app.router["index"].url_for())

    @routes.get("/no-content")
    async def no_content(request: Any) -> Any:
        raise web.HTTPNoContent()

    @routes.get("/not-modified")
    async def not_modified(request: Any) -> Any:
        raise web.HTTPNotModified()

    @routes.get("/crash")
    async def crash(request: Any) -> Any:
        raise RuntimeError("secret internal detail")

    @routes.get("/cookies")
    async def cookies(request: Any) -> Any:
        response = web.Response(text="c")
        response.set_cookie("plain", "v")
        response.set_cookie("full", "x y", max_age=60, path="/p", httponly=True, secure=True)
        response.del_cookie("gone")
        return response

    @routes.get("/headers")
    async def headers(request: Any) -> Any:
        response = web.Response(body=b"\x00\x01", headers={"X-A": "1"})
        response.content_type = "application/x-thing"
        response.headers["X-B"] = "2"
        return response

    @routes.get("/text-charset")
    async def text_charset(request: Any) -> Any:
        return web.Response(text="café", content_type="text/html", charset="latin-1")

    @routes.get("/stream")
    async def stream(request: Any) -> Any:
        response = web.StreamResponse(status=202, reason="Streaming")
        response.content_type = "text/plain"
        await response.prepare(request)
        for piece in (b"a", b"bb", b"ccc"):
            await response.write(piece)
        await response.write_eof()
        return response

    @routes.get("/stream-length")
    async def stream_length(request: Any) -> Any:
        response = web.StreamResponse()
        response.content_length = 6
        await response.prepare(request)
        await response.write(b"abc")
        await response.write(b"def")
        await response.write_eof()
        return response

    @routes.get("/json")
    async def json_handler(request: Any) -> Any:
        return web.json_response({"a": [1, "é"]}, dumps=lambda v: json.dumps(v, sort_keys=True))

    @routes.get("/empty")
    async def empty(request: Any) -> Any:
        return web.Response()

    @routes.get("/file")
    async def file(request: Any) -> Any:
        return web.FileResponse(root / "data.txt")

    @routes.route("*", "/any")
    async def any_method(request: Any) -> Any:
        return web.Response(text=f"any {request.method}")

    @routes.get("/more/{what}")
    async def more(request: Any) -> Any:
        what = request.match_info["what"]
        if what == "reason":
            raise web.HTTPNotFound(reason="Nope")
        if what == "exc-headers":
            raise web.HTTPForbidden(headers={"X-Why": "because", "Set-Cookie": "a=b"})
        if what == "absolute-redirect":
            raise web.HTTPMovedPermanently("https://other.example/x?y=1")
        if what == "status-204-text":
            return web.Response(status=204)
        if what == "cookie-attrs":
            response = web.Response(text="c")
            response.set_cookie("s", "1", samesite="Strict", domain="example.com", max_age=0)
            response.del_cookie("old", path="/p", domain="example.com")
            return response
        if what == "custom-reason":
            return web.Response(status=200, reason="Fine Thanks", text="x")
        if what == "json-text":
            return web.json_response(text='{"pre": "made"}')
        if what == "bytes-type":
            return web.Response(body=b"<b>", content_type="text/html", charset="utf-8")
        if what == "stream-head":
            response = web.StreamResponse()
            response.content_type = "text/plain"
            await response.prepare(request)
            await response.write(b"never on HEAD")
            await response.write_eof()
            return response
        if what == "set-status":
            response = web.Response(text="teapot later")
            response.set_status(418)
            return response
        if what == "deflate":
            response = web.Response(text="z" * 2000)
            response.enable_compression(web.ContentCoding.deflate)
            return response
        if what == "query":
            return web.json_response(
                {"all": request.query.getall("a", []), "qs": request.query_string}
            )
        raise web.HTTPNotFound()

    @routes.post("/body/{how}")
    async def body(request: Any) -> Any:
        how = request.match_info["how"]
        if how == "post-twice":
            first, second = await request.post(), await request.post()
            return web.json_response([list(first.items()), first is second or first == second])
        if how == "read-after-post":
            form = await request.post()
            return web.json_response([list(form.items()), (await request.read()).decode()])
        if how == "json-after-text":
            return web.json_response([await request.text(), await request.json()])
        if how == "content-after-read":
            whole = await request.read()
            return web.json_response([whole.decode(), (await request.content.read()).decode()])
        if how == "flags":
            return web.json_response(
                [request.can_read_body, request.body_exists, request.content_length]
            )
        raise web.HTTPNotFound()

    routes.static("/static", root)

    @web.middleware
    async def mw(request: Any, handler: Any) -> Any:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status == 409:
                return web.Response(status=299, text="converted by middleware")
            raise
        response.headers["X-MW"] = "seen"
        return response

    app = web.Application(middlewares=[mw, web.normalize_path_middleware()])
    app.add_routes(routes)
    api = web.Application()

    async def api_ping(request: Any) -> Any:
        return web.Response(text="pong " + str(request.app.router["ping"].url_for()))

    api.router.add_get("/ping", api_ping, name="ping")
    app.add_subapp("/api", api)
    domain = web.Application()

    async def on_domain(request: Any) -> Any:
        return web.Response(text="on domain " + request.host)

    domain.router.add_get("/", on_domain)
    app.add_domain("*.example.org", domain)
    return app


def write_root(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.txt").write_text("0123456789" * 10)
    (root / "page.html").write_text("<p>hi</p>")
    return root


if __name__ == "__main__":
    from aiohttp import web

    from ._aiohttp_peer import serve_forever

    serve_forever(make_app(web, write_root(Path(sys.argv[1]))))
