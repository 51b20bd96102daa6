"""Microbenchmark: one server request/response cycle through the protocol core.

Each contender parses the same realistic request and serialises the same response:
treadle's ServerConnection on each engine, raw httptools (llhttp callbacks plus a
hand-built response) and raw h11 (a persistent h11.Connection). Contenders are
interleaved over several rounds and the median per-cycle time is reported, with the
ratios the foundation issue sets targets for.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import h11
import httptools

from treadle.protocol import Data, EndOfMessage, Response, ServerConnection

REQUEST = (
    b"GET /api/v1/items?page=2&sort=name HTTP/1.1\r\n"
    b"Host: shop.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-GB,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Cookie: session=0123456789abcdef; theme=dark\r\n"
    b"Connection: keep-alive\r\n"
    b"Cache-Control: no-cache\r\n"
    b"\r\n"
)
BODY = b'{"items": [1, 2, 3], "page": 2}'
RESPONSE_HEADERS = [
    (b"Content-Type", b"application/json"),
    (b"Content-Length", b"%d" % len(BODY)),
    (b"Date", b"Sat, 21 Nov 2026 06:00:00 GMT"),
    (b"Server", b"bench"),
]

Cycle = Callable[[], bytes]


def treadle_cycle(engine: str) -> Cycle:
    conn = ServerConnection(engine=engine)
    response = Response(200, RESPONSE_HEADERS)
    data = Data(BODY)
    end = EndOfMessage()

    def cycle() -> bytes:
        conn.receive_data(REQUEST)
        conn.next_event()  # Request
        conn.next_event()  # EndOfMessage
        return conn.send(response) + conn.send(data) + conn.send(end)

    return cycle


def raw_httptools_cycle() -> Cycle:
    class Collector:
        def __init__(self) -> None:
            self.url = b""
            self.headers: list[tuple[bytes, bytes]] = []
            self.done = False

        def on_url(self, url: bytes) -> None:
            self.url = url

        def on_header(self, name: bytes, value: bytes) -> None:
            self.headers.append((name, value))

        def on_message_complete(self) -> None:
            self.done = True

    collector = Collector()
    parser = httptools.HttpRequestParser(collector)

    def cycle() -> bytes:
        collector.headers = []
        parser.feed_data(REQUEST)
        assert collector.done
        lines = [b"HTTP/1.1 200 OK"]
        lines.extend(name + b": " + value for name, value in RESPONSE_HEADERS)
        lines.append(b"\r\n")
        return b"\r\n".join(lines) + BODY

    return cycle


def raw_h11_cycle() -> Cycle:
    conn = h11.Connection(h11.SERVER)

    def cycle() -> bytes:
        conn.receive_data(REQUEST)
        conn.next_event()  # Request
        conn.next_event()  # EndOfMessage
        wire = conn.send(h11.Response(status_code=200, headers=RESPONSE_HEADERS))
        wire += conn.send(h11.Data(data=BODY)) + conn.send(h11.EndOfMessage())  # type: ignore[operator]
        conn.start_next_cycle()
        return wire  # type: ignore[return-value]

    return cycle


def time_per_cycle(cycle: Cycle, iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        cycle()
    return (time.perf_counter() - start) / iterations


def main(rounds: int = 7, budget: float = 0.25) -> dict[str, float]:
    contenders = {
        "treadle[httptools]": treadle_cycle("httptools"),
        "raw httptools": raw_httptools_cycle(),
        "treadle[h11]": treadle_cycle("h11"),
        "raw h11": raw_h11_cycle(),
    }
    iterations = {}
    for name, cycle in contenders.items():  # calibrate: about `budget` seconds a round
        per = time_per_cycle(cycle, 200)
        iterations[name] = max(200, int(budget / per))
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):  # interleave contenders so machine noise hits them alike
        for name, cycle in contenders.items():
            samples[name].append(time_per_cycle(cycle, iterations[name]))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(
        f"protocol cycle (median of {rounds} interleaved rounds, Python {sys.version.split()[0]})"
    )
    for name, value in medians.items():
        print(f"  {name:<20} {value * 1e6:8.2f} us/cycle  {1 / value:>10,.0f} cycles/s")
    fast, h11_engine = medians["treadle[httptools]"], medians["treadle[h11]"]
    print("ratios (target in brackets):")
    print(f"  treadle[httptools] / raw httptools = {fast / medians['raw httptools']:.2f}  [<= 2]")
    print(f"  raw h11 / treadle[httptools]       = {medians['raw h11'] / fast:.2f}  [>= 5]")
    print(f"  treadle[h11] / raw h11             = {h11_engine / medians['raw h11']:.2f}  [<= 1.2]")
    return medians


if __name__ == "__main__":
    main()
