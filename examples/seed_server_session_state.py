"""Seed: "Session State" (a database pool made on startup, closed on cleanup).

The seed leaves ``create_db_pool`` to the reader: the stand-in below prints when it
opens and closes. ``python examples/seed_server_session_state.py --port 8080``.
"""

from __future__ import annotations

from _seed_support import serve

from treadle import web


# The seed's code, as published (only the import and the run_app options adapted).
# fmt: off
class _Pool:  # stand-in for the seed's database pool
    async def close(self):
        print('pool closed', flush=True)


async def create_db_pool():  # stand-in: the seed does not show it
    print('pool opened', flush=True)
    return _Pool()


async def init_db(app):
    app['db'] = await create_db_pool()

async def cleanup_db(app):
    await app['db'].close()

app = web.Application()
app.on_startup.append(init_db)
app.on_cleanup.append(cleanup_db)

async def handler(request):
    db = request.app['db']  # noqa: F841 (the seed's placeholder)
    # Use db connection
# fmt: on

if __name__ == "__main__":
    serve(app, __doc__)
