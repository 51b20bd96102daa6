"""One app exercising what third-party clients send, for the interop tests.

Each route answers with what it saw, so a test can compare it with what the client
meant to send.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from treadle import web

FILE_BYTES = bytes(range(256)) * 64  # 16 KiB of every byte value


async def index(request: web.Request) -> web.Response:
    return web.Response(text="hello from treadle")


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "content_type": request.content_type,
            "chunked": "chunked" in request.headers.get("Transfer-Encoding", ""),
            "version": list(request.version),
            "user_agent": request.headers.get("User-Agent", ""),
            "peer_port": request.transport.get_extra_info("peername")[1],
        }
    )


async def json_echo(request: web.Request) -> web.Response:
    return web.json_response({"got": await request.json()})


async def form(request: web.Request) -> web.Response:
    data = await request.post()
    fields: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, web.FileField):
            content = value.file.read()
            fields[name] = {
                "filename": value.filename,
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "content_type": value.content_type,
            }
        else:
            fields[name] = value
    return web.json_response(fields)


async def stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    response.enable_compression()
    await response.prepare(request)
    for i in range(50):
        await response.write(b"line %d\n" % i)
    await response.write_eof()
    return response


async def cookie(request: web.Request) -> web.Response:
    response = web.Response(text=f"seen={request.cookies.get('token', '')}")
    response.set_cookie("token", "abc123", httponly=True)
    return response


async def redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.app.router["index"].url_for())


async def upload_check(request: web.Request) -> None:
    """Per-route expect handler: only uploads that say who they are are let through."""
    if request.headers.get("X-Token") != "ok":
        raise web.HTTPForbidden(text="no token")
    return None


async def upload(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(text=f"stored {len(body)}")


def make_app(file_path: Path) -> web.Application:
    app = web.Application(client_max_size=4 * 1024 * 1024)

    async def file(request: web.Request) -> web.FileResponse:
        return web.FileResponse(file_path)

    app.router.add_get("/", index, name="index")
    app.router.add_route("*", "/echo", echo)
    app.router.add_post("/json", json_echo)
    app.router.add_post("/form", form)
    app.router.add_get("/stream", stream)
    app.router.add_get("/cookie", cookie)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/file", file)
    app.router.add_put("/upload", upload, expect_handler=upload_check)
    return app


def write_file(directory: Path) -> Path:
    path = directory / "data.bin"
    path.write_bytes(FILE_BYTES)
    return path
