"""Microbenchmark: the WebSocket core alone, without sockets.

Parse: a server reading client frames (masked) fed in 64 KiB chunks, as a socket gives
them: 32-byte text messages and 1 MiB binary messages, per second. Serialize: a client
producing the same frames (masking included). Contenders: treadle's connection on each
frame engine (and with pure-Python masking), and aiohttp's Cython reader and writer.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from treadle.protocol import WebSocketConnection

CHUNK = 64 * 1024


def stream(count: int, size: int, text: bool) -> list[bytes]:
    client = WebSocketConnection("client", max_message_size=0)
    payload = "x" * size if text else b"x" * size
    wire = b"".join(
        client.send_text(payload) if text else client.send_bytes(payload)  # type: ignore[arg-type]
        for _ in range(count)
    )
    return [wire[i : i + CHUNK] for i in range(0, len(wire), CHUNK)]


def treadle_parse(engine: str, chunks: list[bytes], count: int) -> Callable[[], None]:
    def run() -> None:
        conn = WebSocketConnection("server", engine=engine, max_message_size=0)
        n = 0
        for chunk in chunks:
            conn.receive_data(chunk)
            for _ in conn.events():
                n += 1
        assert n == count, n

    return run


def aiohttp_parse(chunks: list[bytes], count: int) -> Callable[[], None]:
    from aiohttp._websocket.reader import WebSocketDataQueue, WebSocketReader

    class Proto:
        _reading_paused = False

        def pause_reading(self) -> None: ...
        def resume_reading(self) -> None: ...

    loop = asyncio.new_event_loop()

    def run() -> None:
        queue = WebSocketDataQueue(Proto(), 1 << 30, loop=loop)  # type: ignore[arg-type]
        reader = WebSocketReader(queue, 0, compress=False, decode_text=True)
        n = 0
        for chunk in chunks:
            reader.feed_data(chunk)
            n += len(queue._buffer)
            queue._buffer.clear()
        assert n == count, n

    return run


def treadle_send(engine: str, count: int, payload: bytes | str) -> Callable[[], None]:
    def run() -> None:
        conn = WebSocketConnection("client", engine=engine)
        send = conn.send_text if isinstance(payload, str) else conn.send_bytes
        for _ in range(count):
            send(payload)  # type: ignore[arg-type]

    return run


def aiohttp_send(count: int, payload: bytes | str) -> Callable[[], None]:
    from aiohttp._websocket.writer import WebSocketWriter

    class Transport:
        def write(self, data: bytes) -> None: ...
        def is_closing(self) -> bool:
            return False

    class Proto:
        _paused = False

        async def _drain_helper(self) -> None: ...

    loop = asyncio.new_event_loop()
    data = payload.encode() if isinstance(payload, str) else payload
    opcode = 1 if isinstance(payload, str) else 2

    async def go() -> None:
        writer = WebSocketWriter(Proto(), Transport(), use_mask=True)  # type: ignore[arg-type]
        for _ in range(count):
            await writer.send_frame(data, opcode)

    return lambda: loop.run_until_complete(go())


def measure(run: Callable[[], None], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    from treadle.protocol import _ws_mask

    small_n, big_n = 20000, 20
    small = stream(small_n, 32, True)
    big = stream(big_n, 1 << 20, False)
    rows: list[tuple[str, str, float]] = []
    for engine in ("fast", "wsproto"):
        rows.append(
            (
                "parse 32 B text",
                f"treadle/{engine}",
                small_n / measure(treadle_parse(engine, small, small_n), 5),
            )
        )
        rows.append(
            (
                "parse 1 MiB binary",
                f"treadle/{engine}",
                big_n / measure(treadle_parse(engine, big, big_n), 3),
            )
        )
        rows.append(
            (
                "send 32 B text",
                f"treadle/{engine}",
                small_n / measure(treadle_send(engine, small_n, "x" * 32), 5),
            )
        )
        rows.append(
            (
                "send 1 MiB binary",
                f"treadle/{engine}",
                big_n / measure(treadle_send(engine, big_n, b"x" * (1 << 20)), 3),
            )
        )
    rows.append(
        ("parse 32 B text", "aiohttp (Cython)", small_n / measure(aiohttp_parse(small, small_n), 5))
    )
    rows.append(
        ("parse 1 MiB binary", "aiohttp (Cython)", big_n / measure(aiohttp_parse(big, big_n), 3))
    )
    rows.append(
        (
            "send 32 B text",
            "aiohttp (Cython)",
            small_n / measure(aiohttp_send(small_n, "x" * 32), 5),
        )
    )
    rows.append(
        (
            "send 1 MiB binary",
            "aiohttp (Cython)",
            big_n / measure(aiohttp_send(big_n, b"x" * (1 << 20)), 3),
        )
    )
    print(f"masking: {'websockets C helper' if _ws_mask.ACCELERATED else 'pure Python'}")
    for case, who, rate in rows:
        print(f"{case:20} {who:22} {rate:12,.0f} /s")
    if _ws_mask.ACCELERATED and "--child" not in sys.argv:
        print("\n-- again with TREADLE_WS_MASK=python --")
        env = dict(os.environ, TREADLE_WS_MASK="python")
        subprocess.run([sys.executable, __file__, "--child"], env=env, check=True)


if __name__ == "__main__":
    main()
