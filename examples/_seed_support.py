"""What the seed examples share: for ``seed_client_*`` a local server, a CLI, gather and
sleep; for ``seed_server_*`` the command line that serves the seed's app (:func:`serve`).

The seed snippets talk to public hosts (example.com, httpbin.org); the examples talk to
:func:`local_server` instead, a tiny httpbin-like server built on ``treadle.backends``
and the sans-IO ``treadle.protocol.ServerConnection``, so it runs in-process on
asyncio, uvloop and trio alike. It answers:

- ``/status/<n>``: status n; ``/bytes/<n>``: n bytes of data;
- ``/redirect/<n>``: n redirects, then ``/get``;
- anything else: a JSON echo (``method, path, args, headers, data, json, form``).

The snippets also use ``asyncio.gather`` and ``asyncio.sleep``; :func:`gather` and
:func:`sleep` do the same on whichever backend runs.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from treadle.backends import BACKEND_NAMES, Connection, get_backend, run
from treadle.protocol import Data, EndOfMessage, Request, Response, ServerConnection

__all__ = ["gather", "local_server", "main", "serve", "sleep"]


def _answer(request: Request, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The response to one request (status, headers, body)."""
    target = urlsplit(request.target.decode("latin-1"))
    parts = target.path.strip("/").split("/")
    if parts[0] == "status" and len(parts) == 2 and parts[1].isdigit():
        return int(parts[1]), [(b"Content-Type", b"text/plain")], f"status {parts[1]}".encode()
    if parts[0] == "bytes" and len(parts) == 2 and parts[1].isdigit():
        size = min(int(parts[1]), 2**26)
        return 200, [(b"Content-Type", b"application/octet-stream")], bytes(size)
    if parts[0] == "redirect" and len(parts) == 2 and parts[1].isdigit():
        hops = int(parts[1])
        location = f"/redirect/{hops - 1}" if hops > 1 else "/get"
        return 302, [(b"Location", location.encode())], b""
    headers = {
        name.decode("latin-1").title(): value.decode("latin-1") for name, value in request.headers
    }
    content_type = headers.get("Content-Type", "")
    echo: dict[str, Any] = {
        "method": request.method.decode(),
        "path": target.path,
        "args": dict(parse_qsl(target.query)),
        "headers": headers,
        "data": body.decode("utf-8", "replace"),
        "json": None,
        "form": {},
    }
    if content_type.startswith("application/json") and body:
        echo["json"] = json.loads(body)
    elif content_type.startswith("application/x-www-form-urlencoded"):
        echo["form"] = dict(parse_qsl(body.decode()))
    return 200, [(b"Content-Type", b"application/json")], json.dumps(echo).encode()


class _Handler:
    """One server connection: parse with the sans-IO core, answer at once."""

    def __init__(self) -> None:
        self.proto = ServerConnection()
        self.conn: Connection | None = None
        self.request: Request | None = None
        self.body: list[bytes] = []

    def connection_made(self, conn: Connection) -> None:
        self.conn = conn

    def data_received(self, data: bytes) -> None:
        self.proto.receive_data(data)
        self._process()

    def eof_received(self) -> None:
        self.proto.receive_data(b"")
        self._process()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.conn = None

    def _process(self) -> None:
        conn = self.conn
        assert conn is not None
        try:
            for event in self.proto.events():
                if isinstance(event, Request):
                    self.request, self.body = event, []
                elif isinstance(event, Data):
                    self.body.append(event.data)
                elif isinstance(event, EndOfMessage) and self.request is not None:
                    status, headers, payload = _answer(self.request, b"".join(self.body))
                    headers.append((b"Content-Length", str(len(payload)).encode()))
                    out = self.proto.send(Response(status, headers))
                    if payload and self.request.method != b"HEAD":
                        out += self.proto.send(Data(payload))
                    conn.write(out + self.proto.send(EndOfMessage()))
        except Exception:
            conn.abort()
            return
        if self.proto.must_close:
            conn.close()


@asynccontextmanager
async def local_server() -> AsyncIterator[str]:
    """Serve on a free loopback port; yields the base URL (``http://127.0.0.1:<port>``)."""
    listener = await get_backend().serve_tcp(_Handler, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{listener.addresses[0][1]}"
    finally:
        await listener.aclose()


async def gather(*aws: Awaitable[Any]) -> list[Any]:
    """``asyncio.gather`` on any backend: run ``aws`` concurrently, results in order."""
    results: list[Any] = [None] * len(aws)

    async def one(index: int, aw: Awaitable[Any]) -> None:
        results[index] = await aw

    async with get_backend().task_group() as group:
        for index, aw in enumerate(aws):
            group.start_soon(one, index, aw)
    return results


async def sleep(seconds: float) -> None:
    """``asyncio.sleep`` on any backend."""
    await get_backend().sleep(seconds)


def main(run_snippets: Callable[[str], Coroutine[Any, Any, None]]) -> None:
    """Command line: ``--backend asyncio|uvloop|trio`` and ``--url`` (default: a local
    server started here); runs ``run_snippets(base_url)``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=BACKEND_NAMES, default="asyncio")
    parser.add_argument("--url", help="base URL of an httpbin-like server (default: local)")
    args = parser.parse_args()

    async def go() -> None:
        if args.url:
            await run_snippets(args.url.rstrip("/"))
            return
        async with local_server() as base_url:
            await run_snippets(base_url)

    run(go, backend=args.backend)


def serve(app: Any, description: str | None) -> None:
    """Command line of the ``seed_server_*`` examples (the only addition to each seed):
    ``--host``, ``--port`` and ``--backend``, then ``web.run_app(app)`` until stopped."""
    from treadle import web

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default=None, help="default: every interface")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--backend", choices=BACKEND_NAMES, default="asyncio")
    options = parser.parse_args()
    web.run_app(app, host=options.host, port=options.port, backend=options.backend)
