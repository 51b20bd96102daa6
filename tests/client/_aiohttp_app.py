"""An aiohttp.web app in a subprocess: the real aiohttp server as a peer of the client.

Run as ``python -m tests.client._aiohttp_app <fd>`` with a listening socket's fd.
Routes: ``/compressed/<coding>`` (aiohttp's own response compression),
``/chunked`` (a streamed response), ``/cookie`` (Set-Cookie), ``/redirect`` (302 to
``/echo``), ``/echo`` (method, query, headers and body as JSON).
"""

from __future__ import annotations

import socket
import sys

from aiohttp import web

TEXT = b"aiohttp says hello " * 2000


async def compressed(request: web.Request) -> web.StreamResponse:
    coding = request.match_info["coding"]
    response = web.Response(body=TEXT)
    response.enable_compression(web.ContentCoding(coding))
    return response


async def chunked(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    await response.prepare(request)
    for i in range(20):
        await response.write(b"%d," % i * 100)
    await response.write_eof()
    return response


async def cookie(request: web.Request) -> web.StreamResponse:
    response = web.Response(text="ok")
    response.set_cookie("flavour", "oat", path="/")
    return response


async def redirect(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/echo?from=redirect")


async def echo(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "query": dict(request.query),
            "headers": dict(request.headers),
            "body": body.decode("latin-1"),
        }
    )


def main() -> None:
    app = web.Application()
    app.router.add_get("/compressed/{coding}", compressed)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/cookie", cookie)
    app.router.add_get("/redirect", redirect)
    app.router.add_route("*", "/echo", echo)
    sock = socket.socket(fileno=int(sys.argv[1]))
    web.run_app(app, sock=sock, print=None, handle_signals=True)


if __name__ == "__main__":
    main()
