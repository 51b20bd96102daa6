"""Seed: "Basic Template for Web Services" (a greeting by name).

``python examples/seed_server_hello.py --port 8080 --backend trio``; then
``curl localhost:8080/Alice``.
"""

from __future__ import annotations

from _seed_support import serve

from treadle import web


# The seed's code, as published (only the import and the run_app options adapted).
# fmt: off
async def handle(request):
    name = request.match_info.get('name', "Anonymous")
    return web.Response(text=f"Hello, {name}")

app = web.Application()
app.add_routes([
    web.get('/', handle),
    web.get('/{name}', handle)
])
# fmt: on

if __name__ == "__main__":
    serve(app, __doc__)
