"""The HTTP client examples of seed 002 (the ``aiohttp.client`` reference), on treadle.

Adapted only as the examples' README says: ``import treadle as aiohttp``, a local server
(``BASE``) instead of httpbin.org/example.com, and ``--backend asyncio|uvloop|trio``
(``asyncio.run(fetch())`` becomes one ``run_snippets`` that awaits each example).
Example 5.4 (WebSocket) lives with the WebSocket examples.

Run: ``python examples/seed_client_reference.py --backend asyncio``
"""

# ruff: noqa: SIM117  (the seed code is kept as it was written)
from __future__ import annotations

import json

from _seed_support import main

import treadle as aiohttp

BASE = ""  # set by run_snippets(): the local server's URL


# 5.1 Basic GET request
async def fetch():
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"{BASE}/get", timeout=aiohttp.ClientTimeout(total=30), raise_for_status=True
        ) as resp:
            data = await resp.json()
            print(data)


# 5.2 POST with JSON payload and custom headers
async def post_json():
    async with aiohttp.ClientSession(
        headers={"User-Agent": "my-app/1.0"},
        json_serialize=lambda obj: json.dumps(obj, separators=(",", ":")),
    ) as sess:
        payload = {"name": "aiohttp", "type": "example"}
        async with sess.post(
            f"{BASE}/post", json=payload, auth=aiohttp.BasicAuth("user", "pwd")
        ) as r:
            print(await r.text())


# 5.3 Using middlewares for logging
async def logger_middleware(request, handler):
    print(f">> {request.method} {request.url}")
    response = await handler(request)
    print(f"<< {response.status}")
    return response


async def middleware_main():
    async with aiohttp.ClientSession(
        middlewares=[logger_middleware],
    ) as s:
        async with s.get(f"{BASE}/") as resp:
            await resp.read()


# 5.5 One-shot request (module-level)
async def quick():
    async with aiohttp.request("GET", f"{BASE}/ip") as r:
        print(await r.json())


# 2.5 Typical use
async def typical_use():
    async with aiohttp.request("GET", f"{BASE}/") as resp:
        body = await resp.text()
    return body


async def run_snippets(base_url: str) -> None:
    global BASE
    BASE = base_url
    await fetch()
    await post_json()
    await middleware_main()
    await quick()
    print("typical use:", len(await typical_use()), "characters")


if __name__ == "__main__":
    main(run_snippets)
