"""The client snippets of seed 001 ("aiohttp Patterns"), run on treadle.

Adapted only as the examples' README says: ``import treadle as aiohttp``, a local server
(``url``) instead of public hosts, ``gather``/``sleep`` for ``asyncio.gather``/
``asyncio.sleep`` so every backend runs them, and ``--backend asyncio|uvloop|trio``.
The WebSocket client snippet lives with the WebSocket examples.

Run: ``python examples/seed_client_patterns.py --backend uvloop``
"""

# ruff: noqa: SIM117, UP041  (the seed code is kept as it was written)
from __future__ import annotations

import asyncio
import os
import tempfile

from _seed_support import gather, main, sleep

import treadle as aiohttp


# Client session best practices
# WRONG - creates session per request
async def bad_fetch(url):
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            return await response.text()


# CORRECT - reuse session
async def fetch_all(urls: list[str]) -> list[str]:
    async with aiohttp.ClientSession() as session:
        tasks = [fetch_one(session, url) for url in urls]
        return await gather(*tasks)


async def fetch_one(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as response:
        return await response.text()


# Connection pooling
async def pooled(url):
    # Configure connection pool
    connector = aiohttp.TCPConnector(
        limit=100,  # Max connections
        limit_per_host=10,  # Max per host
        ttl_dns_cache=300,  # DNS cache TTL
    )

    async with aiohttp.ClientSession(connector=connector) as session:
        # Use session
        async with session.get(url) as response:
            return response.status


# Timeout configuration
async def with_timeouts(url):
    timeout = aiohttp.ClientTimeout(
        total=30,  # Total timeout
        connect=10,  # Connection timeout
        sock_read=10,  # Read timeout
        sock_connect=10,  # Socket connect timeout
    )

    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.get(url) as response:
            return await response.text()


# Request methods
async def request_methods(url):
    results = []
    async with aiohttp.ClientSession() as session:
        # GET
        async with session.get(url, params={"key": "value"}) as r:
            data = await r.json()
            results.append(("GET", data["args"]))

        # POST JSON
        async with session.post(url, json={"key": "value"}) as r:
            data = await r.json()
            results.append(("POST json", data["json"]))

        # POST form data
        async with session.post(url, data={"key": "value"}) as r:
            data = await r.text()
            results.append(("POST form", data.count("key")))

        # PUT
        async with session.put(url, json={"key": "value"}) as r:
            pass
        results.append(("PUT", r.status))

        # DELETE
        async with session.delete(url) as r:
            pass
        results.append(("DELETE", r.status))

        # With headers
        headers = {"Authorization": "Bearer token"}
        async with session.get(url, headers=headers) as r:
            pass
        results.append(("headers", r.status))
    return results


# Response handling
def process(chunk: bytes) -> None:
    process.total += len(chunk)


process.total = 0


async def response_handling(session, url):
    async with session.get(url) as response:
        # Status
        print(response.status)  # 200
        print(response.reason)  # OK

        # Headers
        print(response.headers["Content-Type"])

        # Body
        text = await response.text()
        json_data = await response.json()
        bytes_data = await response.read()

        # Streaming
        async for chunk in response.content.iter_chunked(1024):
            process(chunk)
    return len(text), len(json_data), len(bytes_data)


# Error handling
async def safe_fetch(session, url):
    try:
        async with session.get(url) as response:
            response.raise_for_status()
            return await response.json()
    except aiohttp.ClientResponseError as e:
        print(f"HTTP error: {e.status}")
    except aiohttp.ClientConnectionError:
        print("Connection error")
    except aiohttp.ClientTimeout:  # (sic: not an exception class, as in the seed)
        print("Request timed out")
    except Exception as e:
        print(f"Unexpected error: {e}")
    return None


# Retry with backoff
async def fetch_with_retry(
    session: aiohttp.ClientSession, url: str, max_retries: int = 3
) -> dict | None:
    for attempt in range(max_retries):
        try:
            async with session.get(url) as response:
                response.raise_for_status()
                return await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError):
            if attempt == max_retries - 1:
                raise
            await sleep(2**attempt / 100)  # Exponential backoff (scaled down here)
    return None


# File upload
async def upload_file(session, url, file_path):
    with open(file_path, "rb") as f:
        data = aiohttp.FormData()
        data.add_field("file", f, filename="upload.txt")
        async with session.post(url, data=data) as response:
            return await response.json()


# File download
async def download_file(session, url, dest_path):
    async with session.get(url) as response:
        with open(dest_path, "wb") as f:
            async for chunk in response.content.iter_chunked(8192):
                f.write(chunk)


async def run_snippets(base: str) -> None:
    print("bad_fetch:", len(await bad_fetch(f"{base}/get")), "characters")
    pages = await fetch_all([f"{base}/get?page={n}" for n in range(5)])
    print("fetch_all:", len(pages), "pages")
    print("pooled:", await pooled(f"{base}/get"))
    print("with_timeouts:", len(await with_timeouts(f"{base}/get")), "characters")
    for name, result in await request_methods(f"{base}/anything"):
        print(f"  {name}: {result}")

    async with aiohttp.ClientSession() as session:
        print("response_handling:", await response_handling(session, f"{base}/get"))
        print("safe_fetch 200:", (await safe_fetch(session, f"{base}/get"))["path"])
        print("safe_fetch 404:", await safe_fetch(session, f"{base}/status/404"))
        print("retry:", (await fetch_with_retry(session, f"{base}/get"))["method"])
        try:
            await fetch_with_retry(session, f"{base}/status/503")
        except aiohttp.ClientResponseError as exc:
            print("retry gave up:", exc.status)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "upload.txt")
            with open(path, "wb") as f:
                f.write(b"file content " * 100)
            reply = await upload_file(session, f"{base}/upload", path)
            print("upload:", reply["headers"]["Content-Type"].split(";")[0], len(reply["data"]))
            dest = os.path.join(tmp, "download.bin")
            await download_file(session, f"{base}/bytes/100000", dest)
            print("download:", os.path.getsize(dest), "bytes")


if __name__ == "__main__":
    main(run_snippets)
