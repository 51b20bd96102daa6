"""An app for the shutdown tests: a slow handler, its pid, and signals that say they ran.

Run as ``python -m tests.server.apps.slow --backend trio [--shutdown-timeout S]``; it
serves on 127.0.0.1 with a free port and prints run_app's banner with the real port.
Each step the tests wait for is printed on its own line (flushed).
"""

from __future__ import annotations

import argparse
import os
import sys

from treadle import web
from treadle.backends import get_backend


def say(line: str) -> None:
    print(line, flush=True)


async def slow(request: web.Request) -> web.Response:
    seconds = float(request.query.get("t", "1"))
    say(f"slow started {seconds}")
    await get_backend().sleep(seconds)
    say("slow done")
    return web.Response(text="slow done")


async def pid(request: web.Request) -> web.Response:
    return web.Response(text=str(os.getpid()))


async def on_shutdown(app: web.Application) -> None:
    say("on_shutdown")


async def on_cleanup(app: web.Application) -> None:
    say("on_cleanup")


def make_app(argv: list[str] | None = None) -> web.Application:
    """The factory ``python -m treadle.web`` and gunicorn call."""
    app = web.Application()
    app.router.add_get("/slow", slow)
    app.router.add_get("/pid", pid)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    if argv:
        say(f"argv {' '.join(argv)}")
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="asyncio")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--shutdown-timeout", type=float, default=60.0)
    args = parser.parse_args()
    web.run_app(
        make_app(),
        host="127.0.0.1",
        port=args.port,
        backend=args.backend,
        shutdown_timeout=args.shutdown_timeout,
        print=say,
    )
    say("exited run_app")
    sys.exit(0)


if __name__ == "__main__":
    main()
