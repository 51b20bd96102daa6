"""uvicorn subprocesses serving ``_auth_proxy_app``: plain HTTP and HTTPS (trustme CA).

Out of process, so one server serves the asyncio, uvloop and trio runs; the listening
socket is bound here and handed over with ``--fd``, so it accepts as soon as the fixture
returns. Both are killed when the test session ends.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class TLSServer:
    url: str
    client_context: ssl.SSLContext


def _wait_ready(port: int, proc: subprocess.Popen[bytes], tls: ssl.SSLContext | None) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as raw:
                sock = tls.wrap_socket(raw, server_hostname="127.0.0.1") if tls else raw
                sock.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if sock.recv(100).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("uvicorn did not answer within the deadline")


@contextlib.contextmanager
def _uvicorn(extra: list[str], tls: ssl.SSLContext | None) -> Iterator[int]:
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
            "tests.client._auth_proxy_app:app",
            "--fd",
            str(sock.fileno()),
            "--log-level",
            "warning",
            "--lifespan",
            "off",
            *extra,
        ],
        pass_fds=(sock.fileno(),),
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    try:
        _wait_ready(port, proc, tls)
        yield port
    finally:
        proc.kill()
        proc.wait(10)
        sock.close()


@pytest.fixture(scope="session")
def auth_app_url() -> Iterator[str]:
    """Base URL (ending in "/") of the plain-HTTP server."""
    with _uvicorn([], None) as port:
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="session")
def auth_app_tls() -> Iterator[TLSServer]:
    """The HTTPS server (certificate for 127.0.0.1 and localhost) and a trusting context."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    client = ssl.create_default_context()
    ca.configure_trust(client)
    with tempfile.TemporaryDirectory(prefix="treadle-tls-") as tmp:
        key_file, cert_file = Path(tmp) / "key.pem", Path(tmp) / "cert.pem"
        cert.private_key_pem.write_to_path(str(key_file))
        cert.cert_chain_pems[0].write_to_path(str(cert_file))
        for pem in cert.cert_chain_pems[1:]:
            with cert_file.open("ab") as out:
                out.write(pem.bytes())
        args = ["--ssl-keyfile", str(key_file), "--ssl-certfile", str(cert_file)]
        with _uvicorn(args, client) as port:
            yield TLSServer(f"https://127.0.0.1:{port}/", client)
