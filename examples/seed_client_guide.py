"""The client snippets of seed 000 ("In-Depth Understanding of aiohttp"), run on treadle.

Adapted only as the examples' README says: ``import treadle as aiohttp``, a local server
(``BASE``) instead of public hosts, ``gather``/``sleep`` that work on every backend,
and ``--backend asyncio|uvloop|trio``. The snippet bodies are otherwise as written.

Run: ``python examples/seed_client_guide.py --backend trio``
"""

# ruff: noqa: SIM117, UP041, RUF010  (the seed code is kept as it was written)
from __future__ import annotations

import asyncio
import os
import tempfile

from _seed_support import main

import treadle as aiohttp

BASE = ""  # set by run_snippets(): the local server's URL


# 1.1 Asynchronous request example
async def async_request_example() -> str:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{BASE}/") as resp:
            data = await resp.text()
    return data


# 2.2 Core usage of the client
async def fetch_data(url):
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=100)  # Connection pool control
    ) as session:
        try:
            async with session.get(url, timeout=10) as resp:
                if resp.status == 200:
                    return await resp.json()  # Automatically parse JSON
        except aiohttp.ClientError as e:
            print(f"Request failed: {str(e)}")


# 4.1 Connection pool configuration parameters
def make_connector() -> aiohttp.TCPConnector:
    connector = aiohttp.TCPConnector(
        limit=200,  # Maximum number of connections
        limit_per_host=50,  # Maximum connections per host
        ssl=False,  # Disable SSL verification (for testing environment)
    )
    return connector


# 4.2 Streaming response handling
async def download_large_file(session, url):
    async with session.get(url) as resp:
        with open("large_file.zip", "wb") as fd:
            async for chunk in resp.content.iter_chunked(1024 * 1024):
                fd.write(chunk)


# 5.1 Correct approach
async def async_call(session, url):
    async with session.get(url) as resp:
        ...
    return resp.status


# 6. Error handling: client errors vs server errors
async def distinguish_errors(session, url):
    try:
        async with session.get(url) as resp:
            resp.raise_for_status()
    except aiohttp.ClientConnectionError:
        # Handle connection-level errors
        return "connection error"
    except aiohttp.ClientResponseError as e:
        # Handle HTTP status code errors
        return f"http error {e.status}"
    except asyncio.TimeoutError:
        # Handle timeout
        return "timeout"
    return "ok"


# 7.2 Microservice communication pattern
class config:  # the snippet's module-level name
    SERVICE_URL = ""


async def handle_response(resp):
    return await resp.json()


async def call_service(session, method, endpoint, payload):
    async with session.request(
        method=method, url=config.SERVICE_URL + endpoint, json=payload
    ) as resp:
        return await handle_response(resp)


async def run_snippets(base_url: str) -> None:
    global BASE
    BASE = config.SERVICE_URL = base_url
    text = await async_request_example()
    print("1.1 GET / ->", len(text), "characters of JSON")

    data = await fetch_data(f"{base_url}/get?q=treadle")
    print("2.2 fetch_data ->", data["args"])

    connector = make_connector()
    async with aiohttp.ClientSession(connector=connector) as session:
        print("4.1 connector limits:", connector.limit, connector.limit_per_host)

        cwd = os.getcwd()
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)
            try:
                await download_large_file(session, f"{base_url}/bytes/3000000")
                print("4.2 downloaded", os.path.getsize("large_file.zip"), "bytes")
            finally:
                os.chdir(cwd)

        print("5.1 async_call ->", await async_call(session, f"{base_url}/get"))
        print("6   500 ->", await distinguish_errors(session, f"{base_url}/status/500"))
        closed_port = f"http://127.0.0.1:{_closed_port()}/"
        print("6   refused ->", await distinguish_errors(session, closed_port))

        reply = await call_service(session, "POST", "/orders", {"item": 42})
        print("7.2 call_service ->", reply["method"], reply["json"])

    # 2.2's except branch: a connection error is reported, not raised
    await fetch_data(closed_port)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


if __name__ == "__main__":
    main(run_snippets)
