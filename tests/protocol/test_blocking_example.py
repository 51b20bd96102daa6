"""The sans-IO embedding example (examples/protocol_blocking.py) really works."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "protocol_blocking.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("protocol_blocking", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = _load()


@pytest.fixture
def port() -> Iterator[int]:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    thread = threading.Thread(target=example.serve, args=(listener, stop), daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()
    assert not thread.is_alive()


def test_keep_alive_requests(port: int) -> None:
    results = example.fetch("127.0.0.1", port, [b"/a", b"/b", b"/c"])
    assert results == [(200, b"Hello from /%s\n" % name) for name in (b"a", b"b", b"c")]


def test_bad_request_gets_the_status_the_core_suggests(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n")
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Connection: close" in reply


def test_the_example_runs_as_a_program() -> None:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60, check=True
    )
    assert "treadle client: 200 b'Hello from /one\\n'" in completed.stdout
    assert "http.client:    200 b'echo me'" in completed.stdout
