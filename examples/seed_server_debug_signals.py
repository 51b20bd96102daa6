"""Seed: "Enabling Debug Mode" (debug app with startup and cleanup callbacks).

The seed leaves ``init_db`` and ``close_db`` to the reader: the stand-ins below
print what they do. ``python examples/seed_server_debug_signals.py --port 8080``.
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
async def init_db(app):  # stand-in: the seed does not show it
    app['db'] = {'connected': True}
    print('init_db: connected', flush=True)


async def close_db(app):  # stand-in: the seed does not show it
    app['db']['connected'] = False
    print('close_db: closed', flush=True)


app = web.Application(debug=True)  # Show detailed error stack
app.on_startup.append(init_db)     # Startup callback
app.on_cleanup.append(close_db)    # Cleanup callback
# fmt: on

if __name__ == "__main__":
    options = _options()
    web.run_app(app, host=options.host, port=options.port, backend=options.backend)
