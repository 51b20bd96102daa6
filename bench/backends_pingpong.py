"""Round-trip microbenchmark of treadle's backends against raw asyncio and raw trio.

One process, loopback TCP: a client sends 100 bytes, the server echoes them, the client
sends the next ping when the pong is complete. Each contender runs in a fresh event loop
(asyncio.run / uvloop.run / trio.run); contenders are interleaved in every round (order
rotated) and the per-round-trip medians are compared:

    treadle-asyncio vs raw asyncio.Protocol       (asyncio's default loop)
    treadle-uvloop  vs raw asyncio.Protocol       (on uvloop)
    treadle-trio    vs raw trio SocketStream      (send_all / receive_some)

Run: ``python bench/backends_pingpong.py [--round-trips N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable

import trio

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is optional (not on Windows)
    uvloop = None  # type: ignore[assignment]

from treadle.backends import Connection, get_backend

MESSAGE = b"x" * 100
WARMUP = 300


# -- treadle handlers (the same code on every backend) -------------------------------


class TreadleEcho:
    def __init__(self) -> None:
        self.conn: Connection | None = None

    def connection_made(self, conn: Connection) -> None:
        self.conn = conn

    def data_received(self, data: bytes) -> None:
        self.conn.write(data)  # type: ignore[union-attr]

    def eof_received(self) -> None:
        self.conn.close()  # type: ignore[union-attr]

    def connection_lost(self, exc: BaseException | None) -> None:
        pass


class TreadlePinger:
    def __init__(self) -> None:
        self.conn: Connection | None = None
        self.pending = 0
        self.remaining = 0
        self.done = get_backend().create_event()

    def start(self, count: int) -> None:
        self.remaining = count
        self.pending = len(MESSAGE)
        self.done = get_backend().create_event()
        self.conn.write(MESSAGE)  # type: ignore[union-attr]

    def connection_made(self, conn: Connection) -> None:
        self.conn = conn

    def data_received(self, data: bytes) -> None:
        self.pending -= len(data)
        if self.pending:
            return
        self.remaining -= 1
        if self.remaining:
            self.pending = len(MESSAGE)
            self.conn.write(MESSAGE)  # type: ignore[union-attr]
        else:
            self.done.set()

    def eof_received(self) -> None:
        pass

    def connection_lost(self, exc: BaseException | None) -> None:
        pass


async def treadle_run(count: int) -> float:
    backend = get_backend()
    listener = await backend.serve_tcp(TreadleEcho, "127.0.0.1", 0)
    client = TreadlePinger()
    conn = await backend.connect_tcp(client, "127.0.0.1", listener.addresses[0][1])
    client.start(WARMUP)
    await client.done.wait()
    start = time.perf_counter()
    client.start(count)
    await client.done.wait()
    elapsed = time.perf_counter() - start
    conn.close()
    await conn.wait_closed()
    await listener.aclose()
    return elapsed


# -- raw asyncio.Protocol --------------------------------------------------------------


class RawEcho(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


class RawPinger(asyncio.Protocol):
    def __init__(self) -> None:
        self.pending = 0
        self.remaining = 0
        self.done: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def start(self, count: int) -> asyncio.Future[None]:
        self.remaining = count
        self.pending = len(MESSAGE)
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(MESSAGE)
        return self.done

    def data_received(self, data: bytes) -> None:
        self.pending -= len(data)
        if self.pending:
            return
        self.remaining -= 1
        if self.remaining:
            self.pending = len(MESSAGE)
            self.transport.write(MESSAGE)
        else:
            assert self.done is not None
            self.done.set_result(None)


async def raw_asyncio_run(count: int) -> float:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(RawEcho, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport, client = await loop.create_connection(RawPinger, "127.0.0.1", port)
    await client.start(WARMUP)
    start = time.perf_counter()
    await client.start(count)
    elapsed = time.perf_counter() - start
    transport.close()
    server.close()
    return elapsed


# -- raw trio streams ------------------------------------------------------------------


async def raw_trio_run(count: int) -> float:
    async def echo(stream: trio.SocketStream) -> None:
        async for data in stream:
            await stream.send_all(data)

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(trio.serve_tcp, echo, 0)
        port = listeners[0].socket.getsockname()[1]
        stream = await trio.open_tcp_stream("127.0.0.1", port)

        async def pingpong(n: int) -> None:
            for _ in range(n):
                await stream.send_all(MESSAGE)
                pending = len(MESSAGE)
                while pending:
                    pending -= len(await stream.receive_some())

        await pingpong(WARMUP)
        start = time.perf_counter()
        await pingpong(count)
        elapsed = time.perf_counter() - start
        await stream.aclose()
        nursery.cancel_scope.cancel()
    return elapsed


# -- driver ----------------------------------------------------------------------------


def _contenders(count: int) -> dict[str, Callable[[], float]]:
    contenders: dict[str, Callable[[], float]] = {
        "raw asyncio": lambda: asyncio.run(raw_asyncio_run(count)),
        "treadle asyncio": lambda: asyncio.run(treadle_run(count)),
        "raw trio": lambda: trio.run(raw_trio_run, count),
        "treadle trio": lambda: trio.run(treadle_run, count),
    }
    if uvloop is not None:
        contenders["raw uvloop"] = lambda: uvloop.run(raw_asyncio_run(count))
        contenders["treadle uvloop"] = lambda: uvloop.run(treadle_run(count))
    return contenders


PAIRS = [
    ("asyncio", "treadle asyncio", "raw asyncio"),
    ("uvloop", "treadle uvloop", "raw uvloop"),
    ("trio", "treadle trio", "raw trio"),
]


def run(round_trips: int, rounds: int) -> dict[str, float]:
    """Median microseconds per round trip for every contender."""
    contenders = _contenders(round_trips)
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:  # rotate the order every round
            samples[name].append(contenders[name]() / round_trips * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args([] if argv is None else argv)  # bench/run.py calls main()
    started = time.perf_counter()
    medians = run(args.round_trips, args.rounds)
    print(
        f"backends ping-pong: {len(MESSAGE)}-byte messages over loopback, "
        f"{args.round_trips} round trips x {args.rounds} rounds (median per round)"
    )
    print(f"{'backend':<10}{'treadle us/rt':>15}{'raw us/rt':>12}{'ratio':>8}  target <= 1.15")
    worst = 0.0
    for label, ours, raw in PAIRS:
        if ours not in medians:
            continue
        ratio = medians[ours] / medians[raw]
        worst = max(worst, ratio)
        verdict = "ok" if ratio <= 1.15 else "OVER"
        print(f"{label:<10}{medians[ours]:>15.2f}{medians[raw]:>12.2f}{ratio:>8.3f}  {verdict}")
    print(f"total {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
