"""The session against hypercorn (h11-based, a second third-party HTTP/1.1 server beside
uvicorn and aiohttp.web), serving the client tests' ASGI app in a subprocess; every
backend talks to the same server."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import treadle as aiohttp

from ._asgi_app import ENCODED_TEXT
from ._uvicorn_server import asgi_server


@pytest.fixture(scope="module")
def hypercorn_url() -> Iterator[str]:
    with asgi_server(
        "hypercorn",
        lambda fd: [
            "hypercorn", "tests.client._asgi_app:app", "--bind", f"fd://{fd}",
            "--worker-class", "asyncio", "--log-level", "warning",
        ],
    ) as url:  # fmt: skip
        yield url


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
