"""WebSocket echo over one connection: treadle against aiohttp and websockets.

Each contender is a client and a server of the same library: the server (an echo
endpoint) runs in a subprocess pinned to core 0 with ``taskset``, the client in this
process on core 1. One connection per run, without compression, strictly one message in
flight:

    small: 20,000 text messages of 32 bytes  (messages/s)
    big:   200 binary messages of 1 MiB      (MiB/s, each way)

Contenders: treadle on asyncio, uvloop and trio; aiohttp and websockets on asyncio and
uvloop. They are interleaved in every round (order rotated); the median of the rounds is
reported, with ratios to aiohttp on the same loop (trio is compared with aiohttp on
asyncio). Besides wall-clock rates, the CPU time both processes spent per echo (client
``process_time`` plus the server's utime+stime from ``/proc``) is reported: on a busy
machine it is the steadier measure. ``TREADLE_BENCH_QUICK=1`` runs a short smoke round.

``--in-process`` runs client and server in one process and loop instead (the CPU per
echo is then both halves, without the cross-process scheduling noise).

Run: ``python bench/ws_echo.py [--small N] [--big N] [--rounds R] [--in-process]``;
``--serve LIB LOOP`` is the server side (used internally).
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
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

SMALL = "x" * 32
BIG = bytes(range(256)) * 4096  # 1 MiB
WARMUP = 200
#: (small messages/s, big MiB/s, CPU µs per small echo, CPU ms per 1 MiB echo)
Result = tuple[float, float, float, float]
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _no_cpu() -> float:
    return 0.0


def process_cpu(pid: int) -> Callable[[], float]:
    """Seconds of CPU (user + system) process ``pid`` used so far (Linux ``/proc``)."""
    path = f"/proc/{pid}/stat"
    if not os.path.exists(path):
        return _no_cpu

    def read() -> float:
        with open(path) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK

    return read


# -- servers (subprocess) ----------------------------------------------------------------------


def _run_loop(loop: str, main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    if loop == "trio":
        import trio

        return trio.run(main)
    if loop == "uvloop":
        import uvloop

        return uvloop.run(main())
    return asyncio.run(main())


async def _treadle_echo(request: Any) -> Any:
    from treadle import web

    ws = web.WebSocketResponse(compress=False)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == web.WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == web.WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def _aiohttp_echo(request: Any) -> Any:
    from aiohttp import WSMsgType
    from aiohttp import web as aweb

    ws = aweb.WebSocketResponse(compress=False)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def _websockets_echo(peer: Any) -> None:
    async for message in peer:
        await peer.send(message)


async def start_server(lib: str) -> tuple[int, Callable[[], Awaitable[None]]]:
    """An echo server of ``lib`` on 127.0.0.1 in the running loop: ``(port, stop)``."""
    if lib == "treadle":
        from treadle import web

        app = web.Application()
        app.router.add_get("/", _treadle_echo)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return runner.addresses[0][1], runner.cleanup
    if lib == "aiohttp":
        from aiohttp import web as aweb

        aapp = aweb.Application()
        aapp.router.add_get("/", _aiohttp_echo)
        arunner = aweb.AppRunner(aapp, access_log=None)
        await arunner.setup()
        await aweb.TCPSite(arunner, "127.0.0.1", 0).start()
        return arunner.addresses[0][1], arunner.cleanup
    from websockets.asyncio.server import serve as ws_serve

    server = await ws_serve(_websockets_echo, "127.0.0.1", 0, compression=None, max_size=None)

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    return next(iter(server.sockets)).getsockname()[1], stop


def _run_on(lib: str, loop: str, main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    if lib == "treadle":
        from treadle.backends import run

        return run(main, backend=loop)
    return _run_loop(loop, main)


def serve(lib: str, loop: str) -> None:
    """An echo server of ``lib`` on ``loop``; prints its port, runs until killed."""

    async def main() -> None:
        port, _ = await start_server(lib)
        print(port, flush=True)
        if lib == "treadle":
            from treadle.backends import get_backend

            while True:
                await get_backend().sleep(3600)
        await asyncio.Event().wait()

    _run_on(lib, loop, main)


class ServerProcess:
    def __init__(self, lib: str, loop: str) -> None:
        args = [sys.executable, os.path.abspath(__file__), "--serve", lib, loop]
        if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
            args = ["taskset", "-c", "0", *args]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=10)
            raise RuntimeError(f"{lib} server exited with {self.process.returncode}")
        self.url = f"ws://127.0.0.1:{int(line)}/"
        self.cpu = process_cpu(self.process.pid)

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


# -- clients -----------------------------------------------------------------------------------


async def _measure(
    send_str: Callable[[str], Awaitable[None]],
    send_bytes: Callable[[bytes], Awaitable[None]],
    receive: Callable[[], Awaitable[Any]],
    small: int,
    big: int,
    server_cpu: Callable[[], float],
) -> Result:
    for _ in range(WARMUP):
        await send_str(SMALL)
        await receive()
    cpu0, server0 = time.process_time(), server_cpu()
    start = time.perf_counter()
    for _ in range(small):
        await send_str(SMALL)
        await receive()
    middle = time.perf_counter()
    cpu1, server1 = time.process_time(), server_cpu()
    for _ in range(big):
        await send_bytes(BIG)
        await receive()
    end = time.perf_counter()
    cpu2, server2 = time.process_time(), server_cpu()
    small_cpu = (cpu1 - cpu0 + server1 - server0) / small * 1e6
    big_cpu = (cpu2 - cpu1 + server2 - server1) / big * 1e3 if big else 0.0
    return (
        small / (middle - start),
        big * len(BIG) / (1 << 20) / (end - middle) if big else 0.0,
        small_cpu,
        big_cpu,
    )


async def treadle_session(url: str, small: int, big: int, cpu: Callable[[], float]) -> Result:
    import treadle

    async with treadle.ClientSession() as session, session.ws_connect(url) as ws:
        return await _measure(ws.send_str, ws.send_bytes, ws.receive, small, big, cpu)


async def aiohttp_session(url: str, small: int, big: int, cpu: Callable[[], float]) -> Result:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        return await _measure(ws.send_str, ws.send_bytes, ws.receive, small, big, cpu)


async def websockets_session(url: str, small: int, big: int, cpu: Callable[[], float]) -> Result:
    from websockets.asyncio.client import connect

    async with connect(url, compression=None, max_size=None) as ws:
        return await _measure(ws.send, ws.send, ws.recv, small, big, cpu)


SESSIONS = {
    "treadle": treadle_session,
    "aiohttp": aiohttp_session,
    "websockets": websockets_session,
}


def run_client(
    lib: str, url: str, loop: str, small: int, big: int, cpu: Callable[[], float]
) -> Result:
    """One contender's client run on a fresh event loop, against a server elsewhere."""

    async def main() -> Result:
        return await SESSIONS[lib](url, small, big, cpu)

    return _run_on(lib, loop, main)  # type: ignore[no-any-return]


def run_in_process(lib: str, loop: str, small: int, big: int) -> Result:
    """Client and server of ``lib`` in one process and loop (CPU = both halves)."""

    async def main() -> Result:
        port, stop = await start_server(lib)
        try:
            return await SESSIONS[lib](f"ws://127.0.0.1:{port}/", small, big, _no_cpu)
        finally:
            await stop()

    return _run_on(lib, loop, main)  # type: ignore[no-any-return]


CONTENDERS = [
    ("treadle", "asyncio"),
    ("treadle", "uvloop"),
    ("treadle", "trio"),
    ("aiohttp", "asyncio"),
    ("aiohttp", "uvloop"),
    ("websockets", "asyncio"),
    ("websockets", "uvloop"),
]


def _reference(loop: str) -> str:
    return "aiohttp uvloop" if loop == "uvloop" else "aiohttp asyncio"


def bench(small: int, big: int, rounds: int, in_process: bool = False) -> dict[str, Result]:
    servers: dict[str, ServerProcess] = {}
    names = [f"{lib} {loop}" for lib, loop in CONTENDERS]
    results: dict[str, list[Result]] = {name: [] for name in names}
    try:
        if not in_process:
            for name in names:
                servers[name] = ServerProcess(*name.split())
        for round_index in range(rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                lib, loop = name.split()
                if in_process:
                    results[name].append(run_in_process(lib, loop, small, big))
                else:
                    server = servers[name]
                    results[name].append(run_client(lib, server.url, loop, small, big, server.cpu))
    finally:
        for server in servers.values():
            server.close()
    medians: dict[str, Result] = {
        name: tuple(statistics.median(r[i] for r in values) for i in range(4))  # type: ignore[misc]
        for name, values in results.items()
    }
    where = (
        "client and server in one process and loop (CPU: both halves)"
        if in_process
        else "server pinned to core 0, client on core 1"
    )
    print(
        f"one connection, no compression: {small} x 32-byte text and {big} x 1 MiB binary "
        f"echoes; {where}; median of {rounds} rounds"
    )
    print("wall-clock rates, and CPU per echo (client + server); ratio: aiohttp's / ours")
    print(
        f"{'contender':<20}{'small msg/s':>12}{'ratio':>7}{'big MiB/s':>11}{'ratio':>7}"
        f"{'CPU us/small':>14}{'ratio':>7}{'CPU ms/MiB':>12}{'ratio':>7}"
    )
    for name, (rate, throughput, small_cpu, big_cpu) in medians.items():
        ref = medians[_reference(name.split()[1])]
        print(
            f"{name:<20}{rate:>12,.0f}{rate / ref[0]:>7.2f}"
            f"{throughput:>11,.1f}{_ratio(throughput, ref[1]):>7.2f}"
            f"{small_cpu:>14,.1f}{_ratio(ref[2], small_cpu):>7.2f}"
            f"{big_cpu:>12,.2f}{_ratio(ref[3], big_cpu):>7.2f}"
        )
    return medians


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quick = bool(os.environ.get("TREADLE_BENCH_QUICK"))
    parser.add_argument("--small", type=int, default=2000 if quick else 20000)
    parser.add_argument("--big", type=int, default=20 if quick else 200)
    parser.add_argument("--rounds", type=int, default=1 if quick else 3)
    parser.add_argument(
        "--in-process", action="store_true", help="client and server in one process and loop"
    )
    parser.add_argument("--serve", nargs=2, metavar=("LIB", "LOOP"), help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    if args.serve:
        serve(*args.serve)
        return
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    bench(args.small, args.big, args.rounds, args.in_process)


if __name__ == "__main__":
    main()
