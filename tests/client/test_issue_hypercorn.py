"""The session against hypercorn (h11-based, a second third-party HTTP/1.1 server beside
uvicorn and aiohttp.web), serving the client tests' ASGI app in a subprocess; every
backend talks to the same server."""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import treadle as aiohttp

from ._asgi_app import ENCODED_TEXT

ROOT = Path(__file__).resolve().parents[2]


def _wait_ready(port: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"hypercorn exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /status/200 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if sock.recv(100).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("hypercorn did not answer within the deadline")


@pytest.fixture(scope="module")
def hypercorn_url() -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hypercorn",
            "tests.client._asgi_app:app",
            "--bind",
            f"fd://{sock.fileno()}",
            "--worker-class",
            "asyncio",
            "--log-level",
            "warning",
        ],
        pass_fds=(sock.fileno(),),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(port, proc, time.monotonic() + 30)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.kill()
        proc.wait(10)
        sock.close()


def header(data: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in data["headers"] if k == name]


async def test_requests_and_bodies(hypercorn_url: str) -> None:
    async def produce() -> Any:
        for i in range(4):
            yield str(i).encode() * 1000

    with anyio.fail_after(20):
        async with aiohttp.ClientSession(hypercorn_url) as session:
            async with session.get("echo", params={"q": "1"}) as resp:
                data = await resp.json()
            assert data["method"] == "GET" and data["query"] == "q=1"
            async with session.post("echo", json={"k": [1, 2]}) as resp:
                assert (await resp.json())["body"] == '{"k": [1, 2]}'
            async with session.post("echo", data={"a": "1", "b": "x y"}) as resp:
                data = await resp.json()
            assert data["body"] == "a=1&b=x+y"
            assert header(data, "content-type") == ["application/x-www-form-urlencoded"]
            async with session.post("echo", data=produce()) as resp:
                data = await resp.json()
            assert data["body"] == "0" * 1000 + "1" * 1000 + "2" * 1000 + "3" * 1000
            async with session.put("echo", data=b"x" * 5000, expect100=True) as resp:
                assert len((await resp.json())["body"]) == 5000
            async with session.head("echo") as resp:
                assert resp.status == 200 and await resp.read() == b""


async def test_streams_codings_redirects_and_cookies(hypercorn_url: str) -> None:
    with anyio.fail_after(20):
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(hypercorn_url, cookie_jar=jar) as session:
            async with session.get("stream", params={"n": "20", "size": "5000"}) as resp:
                assert resp.headers.get("Transfer-Encoding") == "chunked"
                total = 0
                async for piece in resp.content.iter_chunked(4096):
                    total += len(piece)
            assert total == 100_000
            for coding in ("gzip", "deflate"):
                async with session.get(f"encoded/{coding}") as resp:
                    assert await resp.read() == ENCODED_TEXT
            async with session.get("encoded/gzip", auto_decompress=False) as resp:
                assert gzip.decompress(await resp.read()) == ENCODED_TEXT
            async with session.get("redirect/3") as resp:
                assert resp.url.path == "/echo" and len(resp.history) == 3
            async with session.get("set-cookie", params={"c": "v"}) as resp:
                assert resp.cookies["c"].value == "v"
            async with session.get("echo") as resp:
                assert header(await resp.json(), "cookie") == ["c=v"]
            with pytest.raises(aiohttp.ClientResponseError) as info:
                await session.get("status/503", raise_for_status=True)
            assert info.value.status == 503


async def test_keep_alive_reuse(hypercorn_url: str) -> None:
    created = 0
    config = aiohttp.TraceConfig()

    async def on_create(session: Any, ctx: Any, params: Any) -> None:
        nonlocal created
        created += 1

    config.on_connection_create_end.append(on_create)
    with anyio.fail_after(20):
        async with aiohttp.ClientSession(hypercorn_url, trace_configs=[config]) as session:
            for i in range(20):
                async with session.get("echo", params={"i": str(i)}) as resp:
                    assert (await resp.json())["query"] == f"i={i}"
                    assert "hypercorn" in resp.headers["Server"]
    assert created == 1
