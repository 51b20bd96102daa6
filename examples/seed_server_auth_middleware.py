"""Seed: "Middleware Development Example" (an old-style middleware factory).

Requests without an ``Authorization`` header get 401; the app has no routes, so the
others get 404. ``python examples/seed_server_auth_middleware.py --port 8080``.
"""

from __future__ import annotations

from _seed_support import serve

from treadle import web


# The seed's code, as published (only the import and the run_app options adapted).
# fmt: off
async def auth_middleware(app, handler):
    async def middleware(request):
        if not request.headers.get('Authorization'):
            raise web.HTTPUnauthorized()
        return await handler(request)
    return middleware

app = web.Application(middlewares=[auth_middleware])
# fmt: on

if __name__ == "__main__":
    serve(app, __doc__)
