"""HTTP client throughput: many small GETs through one session, 50 at a time.

The server is a minimal keep-alive HTTP/1.1 server (raw asyncio Protocol + httptools on
uvloop when installed) in a subprocess pinned to core 0 with ``taskset``; the clients
run in this process on core 1, so the server's cost is off the clients' core. Every
contender runs one session in a fresh event loop, with 50 concurrent workers reading
each 13-byte body to the end:

    treadle  on asyncio, uvloop, trio (when ``ClientSession`` exists)
    aiohttp  on asyncio, uvloop
    httpx    on asyncio, trio   (httpx is many times slower: it makes a tenth of
                                 the requests; req/s is a rate, so this only shortens
                                 its runs)

Contenders are interleaved in every round (order rotated); the median req/s of the
rounds is reported, with ratios to aiohttp on the same loop (trio and httpx are
compared with aiohttp on asyncio). ``TREADLE_BENCH_QUICK=1`` runs a short smoke round.

Run: ``python bench/client_get.py [--requests N] [--rounds R]``; ``--serve`` is the
server side (used internally).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

CONCURRENCY = 50
WARMUP = 200
BODY = b"Hello, world!"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)
HTTPX_SHARE = 10  # httpx makes 1/HTTPX_SHARE of the requests


# -- server (subprocess) -----------------------------------------------------------------


def serve() -> None:
    """Answer every request with RESPONSE; print the port, run until killed."""
    try:
        import httptools
    except ImportError:  # pragma: no cover - httptools is a dependency on CPython
        httptools = None

    class Server(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.parser = httptools.HttpRequestParser(self) if httptools else None
            self.buffer = b""

        def on_message_complete(self) -> None:
            self.transport.write(RESPONSE)

        def data_received(self, data: bytes) -> None:
            if self.parser is not None:
                try:
                    self.parser.feed_data(data)
                except httptools.HttpParserError:
                    self.transport.close()
                return
            # Fallback for bodiless requests: one response per blank line.
            self.buffer += data
            while b"\r\n\r\n" in self.buffer:
                _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
                self.transport.write(RESPONSE)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Server, "127.0.0.1", 0, backlog=1024)
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:  # pragma: no cover
        asyncio.run(main())


class ServerProcess:
    def __init__(self) -> None:
        args = [sys.executable, os.path.abspath(__file__), "--serve"]
        if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
            args = ["taskset", "-c", "0", *args]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=10)
            raise RuntimeError(f"benchmark server exited with {self.process.returncode}")
        self.url = f"http://127.0.0.1:{int(line)}/"

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


# -- clients -----------------------------------------------------------------------------


def _split(count: int) -> list[int]:
    base, extra = divmod(count, CONCURRENCY)
    return [base + (1 if i < extra else 0) for i in range(CONCURRENCY)]


async def _gather_asyncio(worker: Callable[[int], Awaitable[None]], count: int) -> None:
    await asyncio.gather(*(worker(n) for n in _split(count)))


async def _gather_trio(worker: Callable[[int], Awaitable[None]], count: int) -> None:
    import trio

    async with trio.open_nursery() as nursery:
        for n in _split(count):
            nursery.start_soon(worker, n)


def _gather_for(loop: str) -> Callable[[Callable[[int], Awaitable[None]], int], Awaitable[None]]:
    return _gather_trio if loop == "trio" else _gather_asyncio


def _run(loop: str, main: Callable[[], Awaitable[float]]) -> float:
    if loop == "trio":
        import trio

        return trio.run(main)
    if loop == "uvloop":
        import uvloop

        return uvloop.run(main())  # type: ignore[no-any-return]
    return asyncio.run(main())  # type: ignore[arg-type]


def _session_client(session_cls: Any, url: str, count: int, loop: str) -> float:
    """treadle or aiohttp: the same aiohttp-shaped code."""
    gather = _gather_for(loop)

    async def main() -> float:
        async with session_cls() as session:

            async def worker(n: int) -> None:
                for _ in range(n):
                    async with session.get(url) as response:
                        body = await response.read()
                        if response.status != 200 or body != BODY:
                            raise RuntimeError(f"bad response {response.status} {body!r}")

            await gather(worker, WARMUP)
            start = time.perf_counter()
            await gather(worker, count)
            return count / (time.perf_counter() - start)

    return _run(loop, main)


def _httpx_client(url: str, count: int, loop: str) -> float:
    import httpx

    gather = _gather_for(loop)

    async def main() -> float:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(limits=limits) as client:

            async def worker(n: int) -> None:
                for _ in range(n):
                    response = await client.get(url)
                    if response.status_code != 200 or response.content != BODY:
                        raise RuntimeError(f"bad response {response.status_code}")

            await gather(worker, WARMUP)
            start = time.perf_counter()
            await gather(worker, count)
            return count / (time.perf_counter() - start)

    return _run(loop, main)


def _treadle_session() -> Any:
    try:
        from treadle import ClientSession  # type: ignore[attr-defined]
    except ImportError:
        try:
            from treadle.client._session import ClientSession
        except ImportError:
            return None
    return ClientSession


def _contenders(url: str, count: int) -> dict[str, Callable[[], float]]:
    import aiohttp

    contenders: dict[str, Callable[[], float]] = {}
    treadle_session = _treadle_session()
    has_uvloop = True
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover
        has_uvloop = False
    loops = ["asyncio", "uvloop"] if has_uvloop else ["asyncio"]
    for loop in loops:
        contenders[f"aiohttp {loop}"] = lambda loop=loop: _session_client(
            aiohttp.ClientSession, url, count, loop
        )
    if treadle_session is not None:
        for loop in [*loops, "trio"]:
            contenders[f"treadle {loop}"] = lambda loop=loop: _session_client(
                treadle_session, url, count, loop
            )
    for loop in ("asyncio", "trio"):
        contenders[f"httpx {loop}"] = lambda loop=loop: _httpx_client(
            url, max(count // HTTPX_SHARE, CONCURRENCY), loop
        )
    return contenders


def _reference(name: str) -> str:
    return "aiohttp uvloop" if name.endswith("uvloop") else "aiohttp asyncio"


def bench(count: int, rounds: int) -> dict[str, float]:
    server = ServerProcess()
    try:
        contenders = _contenders(server.url, count)
        names = list(contenders)
        results: dict[str, list[float]] = {name: [] for name in names}
        for round_index in range(rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                results[name].append(contenders[name]())
    finally:
        server.close()
    medians = {name: statistics.median(values) for name, values in results.items()}
    print(
        f"{count} GETs per run ({count // HTTPX_SHARE} for httpx), {CONCURRENCY} concurrent, "
        f"one session; server pinned to core 0; median of {rounds} interleaved rounds"
    )
    if "treadle asyncio" not in medians:
        print("treadle: ClientSession not available, skipped")
    print(f"{'contender':<18}{'req/s':>10}  ratio to aiohttp (same loop; trio/httpx: asyncio)")
    for name, rate in medians.items():
        reference = medians[_reference(name)]
        print(f"{name:<18}{rate:>10,.0f}  {rate / reference:.2f}")
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quick = bool(os.environ.get("TREADLE_BENCH_QUICK"))
    parser.add_argument("--requests", type=int, default=2000 if quick else 20000)
    parser.add_argument("--rounds", type=int, default=1 if quick else 3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    if args.serve:
        serve()
        return
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    bench(args.requests, args.rounds)


if __name__ == "__main__":
    main()
