"""Download a file in chunks with a progress line, on asyncio, uvloop or trio.

``python examples/download.py URL -o FILE --backend trio`` streams the response body to
``FILE`` with ``resp.content.iter_chunked()``, never holding more than one chunk in
memory, and prints ``\\r  42.0%  1.3 MiB / 3.0 MiB  12.5 MiB/s``-style progress (bytes
only when the server sends no Content-Length). With no URL it serves a generated file
on a loopback port and downloads that, so it runs anywhere.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

import treadle
from treadle import web
from treadle.backends import run

CHUNK = 64 * 1024


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    raise AssertionError  # pragma: no cover


class Progress:
    """A one-line progress report, redrawn at most ten times a second (and at the end)."""

    def __init__(self, total: int | None, out: TextIO) -> None:
        self.total = total
        self.done = 0
        self.out = out
        self.started = time.monotonic()
        self.drawn = 0.0

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.drawn >= 0.1:
            self.drawn = now
            self.draw(now)

    def draw(self, now: float) -> None:
        rate = self.done / max(now - self.started, 1e-9)
        if self.total:
            text = f"{100 * self.done / self.total:5.1f}%  {_size(self.done)} / {_size(self.total)}"
        else:
            text = _size(self.done)
        self.out.write(f"\r  {text}  {_size(rate)}/s ")
        self.out.flush()

    def finish(self) -> None:
        self.draw(time.monotonic())
        self.out.write("\n")
        self.out.flush()


async def download(
    session: treadle.ClientSession, url: str, dest: Path, *, out: TextIO = sys.stderr
) -> str:
    """Stream ``url`` into ``dest``; returns the SHA-256 of what was written."""
    digest = hashlib.sha256()
    async with session.get(url, raise_for_status=True) as resp:
        progress = Progress(resp.content_length, out)
        with dest.open("wb") as file:
            async for chunk in resp.content.iter_chunked(CHUNK):
                file.write(chunk)  # a local disk write; use a thread for slow storage
                digest.update(chunk)
                progress.update(len(chunk))
        progress.finish()
    if progress.total is not None and progress.done != progress.total:
        raise treadle.ClientPayloadError(f"got {progress.done} of {progress.total} bytes")
    return digest.hexdigest()


def make_app(payload: bytes) -> web.Application:
    """Serves ``payload`` at ``/file`` (with Content-Length) and ``/stream`` (chunked)."""

    async def whole(request: web.Request) -> web.Response:
        return web.Response(body=payload, content_type="application/octet-stream")

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "application/octet-stream"
        await resp.prepare(request)
        for start in range(0, len(payload), 10_000):
            await resp.write(payload[start : start + 10_000])
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/file", whole)
    app.router.add_get("/stream", stream)
    return app


async def self_test(dest: Path, out: TextIO) -> None:
    """No URL given: serve 3 MiB on a loopback port and download it both ways."""
    payload = bytes(range(256)) * (3 * 4096)
    runner = web.AppRunner(make_app(payload), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with treadle.ClientSession() as session:
            for path in ("/file", "/stream"):
                url = f"http://127.0.0.1:{port}{path}"
                print(f"GET {url} -> {dest}", file=out)
                digest = await download(session, url, dest, out=out)
                ok = digest == hashlib.sha256(payload).hexdigest()
                print(f"  sha256 {digest[:16]}... {'matches' if ok else 'DIFFERS'}", file=out)
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="treadle download example")
    parser.add_argument("url", nargs="?", help="what to download (default: a self-test)")
    parser.add_argument("-o", "--output", type=Path, help="where to write it")
    parser.add_argument("--backend", choices=("asyncio", "uvloop", "trio"), default="asyncio")
    options = parser.parse_args(argv)

    async def go() -> None:
        if options.url is None:
            with tempfile.TemporaryDirectory() as tmp:
                await self_test(options.output or Path(tmp) / "download.bin", sys.stdout)
            return
        dest = options.output or Path(Path(options.url).name or "download.bin")
        async with treadle.ClientSession() as session:
            digest = await download(session, options.url, dest)
        print(f"{dest}: sha256 {digest}")

    run(go, backend=options.backend)


if __name__ == "__main__":
    main()
