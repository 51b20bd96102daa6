"""A uvicorn subprocess serving ``_asgi_app`` on a loopback socket, for the session tests.

The socket is bound here and handed to uvicorn (``--fd``), so it accepts connections
as soon as the fixture returns; the process is killed when the test session ends.
Out of process, so the same server serves the asyncio, uvloop and trio test runs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _wait_ready(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /status/200 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if sock.recv(100).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("uvicorn did not answer within the deadline")


@pytest.fixture(scope="session")
def asgi_url() -> Iterator[str]:
    """The base URL (ending in "/") of the uvicorn server running ``_asgi_app``."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.client._asgi_app:app",
            "--fd",
            str(sock.fileno()),
            "--log-level",
            "warning",
            "--lifespan",
            "off",
            "--http",
            "httptools",
        ],
        pass_fds=(sock.fileno(),),
        cwd=ROOT,
        env=env,
    )
    try:
        _wait_ready(port, time.monotonic() + 20)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.kill()
        proc.wait(10)
        sock.close()
