"""The example programs of examples/ (chat, download, sansio_memory) work on every backend.

The apps are imported and driven in-process through the test client (each async test
runs on asyncio, uvloop and trio); each script is also run once as a program.
"""

from __future__ import annotations

import hashlib
import io
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from websockets.exceptions import ConnectionClosed

from treadle import WSCloseCode, WSMsgType
from treadle.backends import BACKEND_NAMES
from treadle.test_utils import TestClient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module", autouse=True)
def examples_on_path() -> Iterator[None]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield
    finally:
        sys.path.remove(str(EXAMPLES))


def _module(name: str) -> Any:
    __import__(name)
    return sys.modules[name]


# -- chat --------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "memory"])
async def test_chat_broadcasts_to_the_others(treadle_client: Any, transport: str) -> None:
    chat = _module("chat")
    client: TestClient = await treadle_client(chat.make_app(), transport=transport)
    page = await client.get("/")
    assert page.content_type == "text/html" and "WebSocket" in await page.text()
    with anyio.fail_after(20):
        ann = await client.ws_connect("/ws", params={"name": "ann"})
        assert await ann.receive_str() == "welcome ann: 0 other(s) here"
        bob = await client.ws_connect("/ws", params={"name": "bob"})
        assert await bob.receive_str() == "welcome bob: 1 other(s) here"
        assert await ann.receive_str() == "* bob joined"
        await ann.send_str("hi bob")
        assert await bob.receive_str() == "ann: hi bob"
        await bob.send_str("hi ann")
        assert await ann.receive_str() == "bob: hi ann"
        # the name is taken: refused with a policy-violation close
        dup = await client.ws_connect("/ws", params={"name": "ann"})
        msg = await dup.receive()
        assert msg.type == WSMsgType.CLOSE and msg.data == WSCloseCode.POLICY_VIOLATION
        await bob.close()
        assert await ann.receive_str() == "* bob left"
        assert set(client.app[chat.ROOM]) == {"ann"}  # type: ignore[index]


async def test_chat_shutdown_closes_open_sockets() -> None:
    from treadle.test_utils import TestServer

    chat = _module("chat")
    client = TestClient(TestServer(chat.make_app(), transport="memory"))
    await client.start_server()
    try:
        with anyio.fail_after(20):
            ws = await client.ws_connect("/ws", params={"name": "ann"})
            await ws.receive_str()
            await client.server.close()  # graceful: on_shutdown closes the room
            msg = await ws.receive()
            assert msg.type == WSMsgType.CLOSE and msg.data == WSCloseCode.GOING_AWAY
    finally:
        await client.close()


# -- download ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/file", "/stream"])
async def test_download_streams_with_progress(
    treadle_client: Any, tmp_path: Path, path: str
) -> None:
    download = _module("download")
    payload = bytes(range(256)) * 2000
    client: TestClient = await treadle_client(download.make_app(payload))
    out = io.StringIO()
    dest = tmp_path / "file.bin"
    with anyio.fail_after(20):
        digest = await download.download(client.session, str(client.make_url(path)), dest, out=out)
    assert dest.read_bytes() == payload
    assert digest == hashlib.sha256(payload).hexdigest()
    last = out.getvalue().rstrip("\n").split("\r")[-1]
    if path == "/file":  # Content-Length known: a percentage
        assert "100.0%" in last and "500.0 KiB / 500.0 KiB" in last
    else:
        assert "500.0 KiB" in last and "%" not in last
    assert "/s" in last


async def test_download_reports_http_errors(treadle_client: Any, tmp_path: Path) -> None:
    import treadle

    download = _module("download")
    client: TestClient = await treadle_client(download.make_app(b"x"))
    with pytest.raises(treadle.ClientResponseError) as info:
        await download.download(
            client.session, str(client.make_url("/missing")), tmp_path / "f", out=io.StringIO()
        )
    assert info.value.status == 404


# -- sansio_memory ---------------------------------------------------------------------


def test_sansio_memory_agrees_under_every_fragmentation() -> None:
    example = _module("sansio_memory")
    reference = example.exchange_all(0)
    for seed in range(1, 30):
        assert example.exchange_all(seed) == reference
    seen, answers = reference
    assert seen == [(b"GET", b"/hello", b""), (b"POST", b"/upload", b"sans-IO")]
    assert answers == [(200, b"/hello "), (200, b"/upload OI-snas"), (400, b"")]


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_sansio_memory_over_each_backend(backend: str) -> None:
    assert _module("sansio_memory").run_on_backend(backend) == b"/x cba"


# -- the scripts themselves ------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_download_script_self_test(backend: str) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "download.py"), "--backend", backend],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.count("matches") == 2, done.stdout + done.stderr


def test_sansio_memory_script() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "sansio_memory.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    for backend in BACKEND_NAMES:
        assert f"on {backend}: b'/x cba'" in done.stdout


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_chat_script_with_the_websockets_library(backend: str) -> None:
    """The chat program as run by a user, with two clients of another library."""
    from websockets.sync.client import connect

    from .server._proc import Proc

    args = [str(EXAMPLES / "chat.py"), "--port", "0", "--backend", backend]
    with Proc(args) as proc:
        port = proc.banner_port()
        url = f"ws://127.0.0.1:{port}/ws"
        with connect(url + "?name=ann", open_timeout=10) as ann:
            assert ann.recv(timeout=10) == "welcome ann: 0 other(s) here"
            with connect(url + "?name=bob", open_timeout=10) as bob:
                assert bob.recv(timeout=10).startswith("welcome bob")
                assert ann.recv(timeout=10) == "* bob joined"
                bob.send("hello from websockets")
                assert ann.recv(timeout=10) == "bob: hello from websockets"
            assert ann.recv(timeout=10) == "* bob left"
            proc.signal(signal.SIGINT)
            with pytest.raises(ConnectionClosed) as info:
                ann.recv(timeout=10)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1001
        assert proc.wait() == 0, proc.output
