"""A uvicorn subprocess serving ``_asgi_app`` on a loopback socket, for the session tests.

The socket is bound here and handed to uvicorn (``--fd``), so it accepts connections
as soon as the fixture returns; the process is killed when the test session ends.
Out of process, so the same server serves the asyncio, uvloop and trio test runs.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _wait_ready(name: str, port: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /status/200 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if sock.recv(100).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not answer within the deadline")


@contextlib.contextmanager
def asgi_server(name: str, command: Callable[[int], list[str]]) -> Iterator[str]:
    """Run ``python -m <command(fd)>`` serving ``_asgi_app`` on a socket bound here.

    The socket listens before the server starts, so it accepts as soon as this returns;
    the process is killed and the socket closed on exit. Yields the base URL.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", *command(sock.fileno())],
        pass_fds=(sock.fileno(),),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(name, port, proc, time.monotonic() + 30)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.kill()
        proc.wait(10)
        sock.close()


@pytest.fixture(scope="session")
def asgi_url() -> Iterator[str]:
    """The base URL (ending in "/") of the uvicorn server running ``_asgi_app``."""
    with asgi_server(
        "uvicorn",
        lambda fd: [
            "uvicorn", "tests.client._asgi_app:app", "--fd", str(fd),
            "--log-level", "warning", "--lifespan", "off", "--http", "httptools",
        ],
    ) as url:  # fmt: skip
        yield url
