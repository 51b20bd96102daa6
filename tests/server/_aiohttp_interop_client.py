"""aiohttp's own client against a treadle server: ``python -m ... BASE_URL``.

Runs in a subprocess (aiohttp needs asyncio; the server under test may run on trio)
and prints one JSON object of what it observed, which the test then checks.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from typing import Any

import aiohttp


async def observe(base: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    connector = aiohttp.TCPConnector(limit=1)
    jar = aiohttp.CookieJar(unsafe=True)  # cookies from an IP address host
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        async with session.get(base + "/") as resp:
            seen["index"] = [resp.status, await resp.text(), resp.headers.get("Content-Type")]
        async with session.head(base + "/") as resp:
            seen["head"] = [
                resp.status,
                resp.headers.get("Content-Length"),
                (await resp.read()).hex(),
            ]
        body = bytes(range(256)) * 1000
        async with session.post(base + "/echo?x=1", data=body) as resp:
            seen["echo"] = await resp.json()
            seen["echo_sha"] = hashlib.sha256(body).hexdigest()

        async def gen() -> Any:
            for i in range(10):
                yield b"piece %d;" % i

        async with session.post(base + "/echo", data=gen()) as resp:
            seen["echo_chunked"] = await resp.json()
        async with session.post(base + "/json", json={"a": [1, 2], "b": "é"}) as resp:
            seen["json"] = await resp.json()
        form = aiohttp.FormData()
        form.add_field("title", "notes")
        form.add_field("doc", b"x" * 5000, filename="a b.txt", content_type="text/plain")
        async with session.post(base + "/form", data=form) as resp:
            seen["form"] = await resp.json()
        async with session.post(base + "/form", data={"k": "v", "e": "ü&="}) as resp:
            seen["urlencoded"] = await resp.json()
        async with session.get(base + "/stream") as resp:
            seen["stream"] = [resp.headers.get("Content-Encoding"), await resp.text()]
        async with session.get(base + "/cookie") as resp:
            seen["cookie1"] = await resp.text()
        async with session.get(base + "/cookie") as resp:
            seen["cookie2"] = await resp.text()
        async with session.get(base + "/redirect") as resp:
            seen["redirect"] = [resp.status, str(resp.url), len(resp.history)]
        async with session.get(base + "/file", headers={"Range": "bytes=10-19"}) as resp:
            seen["range"] = [resp.status, list(await resp.read())]
        async with session.get(base + "/missing") as resp:
            seen["missing"] = resp.status
        async with session.delete(base + "/") as resp:
            seen["not_allowed"] = [resp.status, resp.headers.get("Allow")]
        async with session.put(
            base + "/upload", data=b"u" * 3000, expect100=True, headers={"X-Token": "ok"}
        ) as resp:
            seen["expect_ok"] = [resp.status, await resp.text()]
        async with session.put(base + "/upload", data=b"u" * 3000, expect100=True) as resp:
            seen["expect_refused"] = [resp.status, await resp.text()]
    return seen


def main() -> None:
    print(json.dumps(asyncio.run(observe(sys.argv[1]))), flush=True)


if __name__ == "__main__":
    main()
