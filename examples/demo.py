"""``make demo``: what treadle can do today, run end to end.

For now that is the sans-IO protocol core: the same blocking-socket server and client
are run once per parsing engine, with a request rate for each. Later issues add the
asyncio/uvloop/trio server and client here.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import protocol_blocking as example  # examples/ is on sys.path when run as a script

from treadle.protocol import available_engines

REQUESTS = 2000


def run_engine(engine: str) -> None:
    os.environ["TREADLE_HTTP_ENGINE"] = engine
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()
    thread = threading.Thread(target=example.serve, args=(listener, stop), daemon=True)
    thread.start()
    try:
        first = example.fetch("127.0.0.1", port, [b"/hello"])
        print(f"  GET /hello -> {first[0][0]} {first[0][1]!r}")
        started = time.perf_counter()
        results = example.fetch("127.0.0.1", port, [b"/n"] * REQUESTS)
        elapsed = time.perf_counter() - started
        assert all(status == 200 for status, _ in results)
        rate = REQUESTS / elapsed
        print(f"  {REQUESTS} keep-alive requests in {elapsed:.2f}s: {rate:,.0f} req/s")
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def main() -> None:
    print(f"treadle demo ({Path(__file__).name}): the sans-IO core over blocking sockets")
    for engine in available_engines():
        print(f"engine {engine}:")
        run_engine(engine)


if __name__ == "__main__":
    main()
