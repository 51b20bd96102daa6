"""HTTP server throughput (wrk) and memory per idle keep-alive connection.

Each contender runs as its own process pinned to core 0 (``taskset -c 0``); wrk runs on
core 1 (``taskset -c 1 wrk -t1 -c50 -d<secs>s``). Endpoints: ``GET /`` (plain text) and
``GET /json``. Contenders are interleaved in every round (order rotated) and the median
requests/s over the rounds is compared with aiohttp on asyncio:

    treadle-asyncio, treadle-uvloop, treadle-trio   web.run_app(app, backend=...)
    aiohttp-asyncio, aiohttp-uvloop                 aiohttp.web.run_app
    httptools-asyncio                               a bare httptools asyncio.Protocol
                                                    (the floor: no framework at all)

Memory: the server's RSS (``/proc/<pid>/status`` VmRSS) before and after 5000 idle
keep-alive connections (each has answered one request), divided by 5000.

Run: ``python bench/server_wrk.py [--secs S] [--rounds R] [--only NAME...]``;
``TREADLE_BENCH_QUICK=1`` for a short run. wrk is installed with apt-get when missing
(needs root). Internally ``--serve NAME --port P`` runs one server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

TEXT = b"Hello, World!"
JSON = {"message": "Hello, World!"}
CONTENDERS = (
    "treadle-asyncio",
    "treadle-uvloop",
    "treadle-trio",
    "aiohttp-asyncio",
    "aiohttp-uvloop",
    "httptools-asyncio",
)
BASELINE = "aiohttp-asyncio"
ENDPOINTS = ("/", "/json")
IDLE_CONNECTIONS = 5000
HERE = Path(__file__).resolve()


# -- the servers (run in the child process) ------------------------------------------


def serve_treadle(backend: str, port: int) -> None:
    from treadle import web

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="Hello, World!")

    async def as_json(request: web.Request) -> web.Response:
        return web.json_response(JSON)

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/json", as_json)
    web.run_app(app, host="127.0.0.1", port=port, backend=backend, access_log=None, print=None)


def serve_aiohttp(loop: str, port: int) -> None:
    import asyncio

    from aiohttp import web

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="Hello, World!")

    async def as_json(request: web.Request) -> web.Response:
        return web.json_response(JSON)

    if loop == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/json", as_json)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def serve_httptools(port: int) -> None:
    """The least a Python HTTP/1.1 server can do: llhttp callbacks and canned replies."""
    import asyncio

    import httptools

    def reply(content_type: bytes, body: bytes) -> bytes:
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body
        )

    replies = {
        b"/": reply(b"text/plain; charset=utf-8", TEXT),
        b"/json": reply(b"application/json", json.dumps(JSON).encode()),
    }
    not_found = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: asyncio.Transport = transport  # type: ignore[assignment]
            self.parser = httptools.HttpRequestParser(self)
            self.url = b""

        def data_received(self, data: bytes) -> None:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                self.transport.close()

        def on_url(self, url: bytes) -> None:
            self.url += url

        def on_message_complete(self) -> None:
            self.transport.write(replies.get(self.url, not_found))
            self.url = b""
            if not self.parser.should_keep_alive():
                self.transport.close()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Protocol, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def serve(name: str, port: int) -> None:
    kind, _, flavour = name.partition("-")
    if kind == "treadle":
        serve_treadle(flavour, port)
    elif kind == "aiohttp":
        serve_aiohttp(flavour, port)
    elif kind == "httptools":
        serve_httptools(port)
    else:
        raise SystemExit(f"unknown contender {name!r}")


# -- driving (the parent process) -----------------------------------------------------


def ensure_wrk() -> str | None:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    print("wrk not found; installing it with apt-get (needs root)...")
    try:
        subprocess.run(
            ["apt-get", "install", "-y", "wrk"], check=True, capture_output=True, timeout=300
        )
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"could not install wrk ({exc}); install it yourself: apt-get install -y wrk")
        return None
    return shutil.which("wrk")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pinned(core: int, argv: list[str]) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(core), *argv]
    return argv


@contextlib.contextmanager
def running(name: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A server process of ``name`` on core 0, ready for requests; stopped on exit."""
    port = free_port()
    argv = [sys.executable, str(HERE), "--serve", name, "--port", str(port)]
    proc = subprocess.Popen(pinned(0, argv), stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} before serving")
            try:
                get(port, "/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start serving within 20 s") from None
                time.sleep(0.05)
        # Every contender does the same work: check what it answers before timing it.
        if get(port, "/") != TEXT or json.loads(get(port, "/json")) != JSON:
            raise RuntimeError(f"{name} answers something else than the other contenders")
        yield proc, port
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def get(port: int, path: str, sock: socket.socket | None = None) -> bytes:
    """One keep-alive GET over ``sock`` (or a new connection); returns the body."""
    own = sock is None
    if sock is None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        sock.sendall(b"GET %s HTTP/1.1\r\nHost: bench\r\n\r\n" % path.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before the response head")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        length = int(match.group(1)) if match else 0
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed in the body")
            body += chunk
        return body
    finally:
        if own:
            sock.close()


def wrk(binary: str, port: int, path: str, secs: float) -> tuple[float, str]:
    """Requests/s of one wrk run on core 1, and a note if anything failed."""
    argv = [binary, "-t1", "-c50", f"-d{secs:g}s", f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(
        pinned(1, argv), capture_output=True, text=True, check=True, timeout=secs + 60
    ).stdout
    match = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    notes = [line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket" in line]
    return float(match.group(1)), "; ".join(notes)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def raise_fd_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def idle_memory(name: str, count: int) -> float:
    """Server RSS growth per idle keep-alive connection, in KiB."""
    with running(name) as (proc, port):
        for _ in range(200):  # warm up: lazy imports, caches, first allocations
            get(port, "/")
        time.sleep(0.5)
        before = rss_kib(proc.pid)
        socks: list[socket.socket] = []
        try:
            for _ in range(count):
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                socks.append(sock)
                get(port, "/", sock)
            time.sleep(1.0)
            # Still open and served: every connection is a live keep-alive one.
            get(port, "/", socks[0])
            get(port, "/", socks[-1])
            after = rss_kib(proc.pid)
        finally:
            for sock in socks:
                sock.close()
    return (after - before) / count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    quick = bool(os.environ.get("TREADLE_BENCH_QUICK"))
    parser.add_argument("--secs", type=float, default=2.0 if quick else 8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=1000 if quick else IDLE_CONNECTIONS)
    parser.add_argument("--only", nargs="*", choices=CONTENDERS, default=list(CONTENDERS))
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.serve:
        serve(args.serve, args.port)
        return

    binary = ensure_wrk()
    if binary is None:
        return
    contenders = list(args.only)
    limit = raise_fd_limit(args.connections * 2 + 512)
    if limit < args.connections * 2 + 256:
        print(f"RLIMIT_NOFILE is {limit}: raise it (ulimit -n) for {args.connections} connections")
        args.connections = max(100, (limit - 256) // 2)
    print(
        f"wrk -t1 -c50 -d{args.secs:g}s, server on core 0, wrk on core 1; "
        f"median of {args.rounds} interleaved rounds"
    )
    results: dict[tuple[str, str], list[float]] = {}
    notes: dict[str, str] = {}
    for round_index in range(args.rounds):
        shift = round_index % len(contenders)
        for name in contenders[shift:] + contenders[:shift]:
            with running(name) as (_, port):
                wrk(binary, port, "/", 1.0)  # warm-up
                for path in ENDPOINTS:
                    rate, note = wrk(binary, port, path, args.secs)
                    results.setdefault((name, path), []).append(rate)
                    if note:
                        notes[name] = note
    print()
    print("| contender | " + " | ".join(f"GET {p} req/s | ratio" for p in ENDPOINTS) + " |")
    print("|---|" + "---:|---:|" * len(ENDPOINTS))
    for name in contenders:
        cells = []
        for path in ENDPOINTS:
            median = statistics.median(results[(name, path)])
            base = results.get((BASELINE, path))
            ratio = f"{median / statistics.median(base):.2f}" if base else "-"
            cells += [f"{median:,.0f}", ratio]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for name, note in notes.items():
        print(f"  {name}: {note}")

    print(f"\nmemory per idle keep-alive connection ({args.connections} connections)")
    print("| contender | KiB/connection |")
    print("|---|---:|")
    for name in contenders:
        print(f"| {name} | {idle_memory(name, args.connections):.2f} |")


if __name__ == "__main__":
    main()
