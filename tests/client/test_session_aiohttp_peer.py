"""The client against aiohttp's own server (aiohttp.web in a subprocess), every backend."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from treadle.client import CookieJar
from treadle.client._session import ClientSession

from ._aiohttp_app import TEXT

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def aiohttp_url() -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.client._aiohttp_app", str(sock.fileno())],
        pass_fds=(sock.fileno(),),
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                    probe.sendall(b"GET /cookie HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if probe.recv(100).startswith(b"HTTP/1.1 200"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the aiohttp server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.kill()
        proc.wait(10)
        sock.close()


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_aiohttp_compressed_responses(aiohttp_url: str, coding: str) -> None:
    url = aiohttp_url + f"compressed/{coding}"
    with anyio.fail_after(10):
        async with ClientSession() as session, session.get(url) as resp:
            assert resp.headers["Content-Encoding"] == coding
            assert await resp.read() == TEXT


async def test_aiohttp_chunked_cookies_redirects_and_bodies(aiohttp_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as session:
            async with session.get(aiohttp_url + "chunked") as resp:
                assert resp.headers["Transfer-Encoding"] == "chunked"
                assert await resp.text() == "".join(f"{i}," * 100 for i in range(20))
            async with session.get(aiohttp_url + "cookie") as resp:
                assert resp.cookies["flavour"].value == "oat"
            async with session.post(aiohttp_url + "redirect", data=b"x") as resp:
                pass  # aiohttp routes GET only: 405, not followed
            assert resp.status == 405
            async with session.get(aiohttp_url + "redirect") as resp:
                data = await resp.json()
            assert data["query"] == {"from": "redirect"}
            assert data["headers"]["Cookie"] == "flavour=oat"
            assert [r.status for r in resp.history] == [302]
            async with session.put(aiohttp_url + "echo", json={"a": 1}) as resp:
                data = await resp.json()
            assert (data["method"], data["body"]) == ("PUT", '{"a": 1}')
