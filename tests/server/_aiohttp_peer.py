"""The same app under real aiohttp in a subprocess, for the parity tests.

The child (``python -m tests.server.<module> ...``) calls :func:`serve_forever` with the
app built by ``aiohttp.web``; it prints ``PORT <n>`` and serves until killed. The test
side opens it with :func:`aiohttp_in_subprocess`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from ._proc import Proc


def serve_forever(app: Any) -> None:
    """Serve the aiohttp ``app`` on a free loopback port, printed as ``PORT <n>``."""

    async def main() -> None:
        from aiohttp import web

        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(f"PORT {runner.addresses[0][1]}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


@contextlib.contextmanager
def aiohttp_in_subprocess(args: list[str]) -> Iterator[int]:
    """Run ``python args...`` (a child calling :func:`serve_forever`): its port."""
    with Proc(args) as proc:
        yield int(proc.expect(r"^PORT (\d+)$").group(1))
