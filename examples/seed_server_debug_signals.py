"""Seed: "Enabling Debug Mode" (debug app with startup and cleanup callbacks).

The seed leaves ``init_db`` and ``close_db`` to the reader: the stand-ins below
print what they do. ``python examples/seed_server_debug_signals.py --port 8080``.
"""

from __future__ import annotations

from _seed_support import serve

from treadle import web


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
    serve(app, __doc__)
