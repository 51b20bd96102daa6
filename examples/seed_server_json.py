"""Seed: "Simple aiohttp Server" (JSON greeting and a JSON echo).

``python examples/seed_server_json.py --port 8080``; then ``curl localhost:8080/Bob``
or ``curl -d '{"a": 1}' localhost:8080/data``.
"""

from __future__ import annotations

from _seed_support import serve

from treadle import web


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
    serve(app, __doc__)
