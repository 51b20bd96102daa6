"""Seed: "Server Middleware" (error and logging middlewares).

The seed's app has no routes: every request is a 404 that the error middleware lets
through and the logging middleware prints. ``python examples/seed_server_middleware.py``.
"""

from __future__ import annotations

from _seed_support import serve

from treadle import web


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
    serve(app, __doc__)
