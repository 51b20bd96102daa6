"""Seed: "Simple aiohttp Server" (JSON greeting and a JSON echo).

``python examples/seed_server_json.py --port 8080``; then ``curl localhost:8080/Bob``
or ``curl -d '{"a": 1}' localhost:8080/data``.
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
async def handle_get(request):
    name = request.match_info.get('name', 'World')
    return web.json_response({'message': f'Hello, {name}'})

async def handle_post(request):
    data = await request.json()
    return web.json_response({'received': data})

app = web.Application()
app.router.add_get('/', handle_get)
app.router.add_get('/{name}', handle_get)
app.router.add_post('/data', handle_post)
# fmt: on

if __name__ == "__main__":
    options = _options()
    web.run_app(app, host=options.host, port=options.port, backend=options.backend)
