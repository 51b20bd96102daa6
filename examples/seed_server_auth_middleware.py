"""Seed: "Middleware Development Example" (an old-style middleware factory).

Requests without an ``Authorization`` header get 401; the app has no routes, so the
others get 404. ``python examples/seed_server_auth_middleware.py --port 8080``.
"""

from __future__ import annotations

import argparse

from treadle import web


def _options() -> argparse.Namespace:
    """Where to listen and which event loop to run (the only additions to the seed)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=None, help="default: every interface")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--backend", choices=("asyncio", "uvloop", "trio"), default="asyncio")
    return parser.parse_args()


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
    options = _options()
    web.run_app(app, host=options.host, port=options.port, backend=options.backend)
