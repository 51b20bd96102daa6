"""Seed: "Basic Template for Web Services" (a greeting by name).

``python examples/seed_server_hello.py --port 8080 --backend trio``; then
``curl localhost:8080/Alice``.
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
    options = _options()
    web.run_app(app, host=options.host, port=options.port, backend=options.backend)
