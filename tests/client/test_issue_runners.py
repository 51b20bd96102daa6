"""aiohttp client code from the seeds, with only ``import treadle as aiohttp``, started by
the runners users write: ``asyncio.run(main())``, ``uvloop.run(main())`` and
``trio.run(main)`` (each in a fresh interpreter, as a user's script would be).

The snippets are the seeds' own (fetching JSON with a ``ClientTimeout``, posting JSON,
``raise_for_status`` and ``ClientError`` handling, streaming a download, the module-level
``request()``, and seed 001's WebSocket client, which no example runs); the server is the
examples' backend-neutral local server, and a ``treadle.web`` app for the WebSocket. Also: an
unclosed session is reported by a ``ResourceWarning`` when it is garbage-collected, a
closed one is not.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import gc
    import sys
    import warnings

    sys.path.insert(0, {examples!r})
    from _seed_support import local_server

    import treadle as aiohttp
    from treadle import web

    BASE = ""


    async def fetch_json(url):
        timeout = aiohttp.ClientTimeout(total=30, connect=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(url, params={{"key": "value"}}) as response:
                response.raise_for_status()
                return await response.json()


    async def post_json(url, data):
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=data) as response:
                return await response.json()


    async def safe_fetch(url):
        try:
            async with aiohttp.ClientSession(raise_for_status=True) as session:
                async with session.get(url) as response:
                    return await response.text()
        except aiohttp.ClientResponseError as e:
            return f"HTTP error: {{e.status}}"
        except aiohttp.ClientError as e:
            return f"connection error: {{type(e).__name__}}"


    async def download(url):
        size = 0
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as response:
                async for chunk in response.content.iter_chunked(8192):
                    size += len(chunk)
        return size


    async def websocket_client(url):
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url) as ws:
                # Send message
                await ws.send_str("Hello")

                # Receive messages
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.TEXT:
                        print(f"Received: {{msg.data}}")
                    elif msg.type == aiohttp.WSMsgType.ERROR:
                        break


    async def ws_echo_twice_then_close(request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        msg = await ws.receive()
        await ws.send_str(msg.data + " back")
        await ws.send_str("bye")
        await ws.close()
        return ws


    async def websocket_snippet():
        app = web.Application()
        app.router.add_get("/ws", ws_echo_twice_then_close)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            await websocket_client(site.name.replace("http", "ws") + "/ws")
        finally:
            await runner.cleanup()


    async def main():
        global BASE
        await websocket_snippet()
        async with local_server() as BASE:
            print("get", (await fetch_json(f"{{BASE}}/get"))["args"])
            print("post", (await post_json(f"{{BASE}}/post", {{"n": 1}}))["json"])
            print("status", await safe_fetch(f"{{BASE}}/status/404"))
            print("refused", await safe_fetch("http://127.0.0.1:1/"))
            print("download", await download(f"{{BASE}}/bytes/100000"))
            async with aiohttp.request("GET", f"{{BASE}}/get") as resp:
                print("one-shot", resp.status)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                leaked = aiohttp.ClientSession()
                async with leaked.get(f"{{BASE}}/get") as resp:
                    await resp.read()
                closed = aiohttp.ClientSession()
                async with closed.get(f"{{BASE}}/get") as resp:
                    await resp.read()
                await closed.close()
                del closed
                gc.collect()
                print("closed-warns", any("Unclosed" in str(w.message) for w in caught))
                connector = leaked.connector
                del leaked
                gc.collect()
                unclosed = [w for w in caught if issubclass(w.category, ResourceWarning)]
                print("unclosed-warns", any("client session" in str(w.message) for w in unclosed))
            await connector.close()


    {runner}
    """
)

RUNNERS = {
    "asyncio.run": "import asyncio\nasyncio.run(main())",
    "uvloop.run": "import uvloop\nuvloop.run(main())",
    "trio.run": "import trio\ntrio.run(main)",
}

EXPECTED = [
    "Received: Hello back",
    "Received: bye",
    "get {'key': 'value'}",
    "post {'n': 1}",
    "status HTTP error: 404",
    "refused connection error: ClientConnectorError",
    "download 100000",
    "one-shot 200",
    "closed-warns False",
    "unclosed-warns True",
]


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_seed_code_under_the_users_runner(runner: str) -> None:
    script = SCRIPT.format(examples=str(ROOT / "examples"), runner=RUNNERS[runner])
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == EXPECTED, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
