"""Seed: "Server Middleware" (error and logging middlewares).

The seed's app has no routes: every request is a 404 that the error middleware lets
through and the logging middleware prints. ``python examples/seed_server_middleware.py``.
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
@web.middleware
async def error_middleware(request, handler):
    try:
        response = await handler(request)
        return response
    except web.HTTPException:
        raise
    except Exception as e:
        return web.json_response(
            {'error': str(e)},
            status=500
        )

@web.middleware
async def logging_middleware(request, handler):
    print(f"{request.method} {request.path}", flush=True)
    response = await handler(request)
    print(f"Response: {response.status}", flush=True)
    return response

app = web.Application(middlewares=[logging_middleware, error_middleware])
# fmt: on

if __name__ == "__main__":
    options = _options()
    web.run_app(app, host=options.host, port=options.port, backend=options.backend)
