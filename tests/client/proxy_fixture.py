"""A real forward proxy for the client tests: proxy.py in a subprocess.

``http_proxy`` is an open proxy, ``http_proxy_auth`` demands ``Proxy-Authorization:
Basic`` for ``user:pass``. Both speak HTTP/1.1 absolute-form requests and CONNECT
tunnels, listen on an ephemeral loopback port (``--port 0`` + ``--port-file``, so no
port race), live for the test session and are killed at its end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROXY_USER = "user"
PROXY_PASSWORD = "pass"
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class ProxyServer:
    host: str
    port: int
    login: str | None = None
    password: str | None = None

    @property
    def url(self) -> str:
        """The proxy URL without credentials (``http://127.0.0.1:<port>``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def url_with_auth(self) -> str:
        """The proxy URL with the credentials as userinfo (as HTTP_PROXY carries them)."""
        if self.login is None:
            return self.url
        return f"http://{self.login}:{self.password}@{self.host}:{self.port}"

    def __str__(self) -> str:
        return self.url


def _wait_for_port(process: subprocess.Popen[bytes], port_file: Path, log: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    port = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"proxy.py exited with {process.returncode}:\n{log.read_text()}")
        if not port:
            text = port_file.read_text().strip() if port_file.exists() else ""
            port = int(text.split()[0]) if text else 0
        if port:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return port
            except OSError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"proxy.py did not accept within {START_TIMEOUT}s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End proxy.py and its worker processes: the group this fixture created."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure no worker of the group outlived it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return


@contextlib.contextmanager
def run_proxy(*, basic_auth: tuple[str, str] | None = None) -> Iterator[ProxyServer]:
    """Start proxy.py on an ephemeral loopback port; kill it (and wait) on exit."""
    with tempfile.TemporaryDirectory(prefix="treadle-proxy-") as tmp:
        port_file = Path(tmp) / "port"
        log = Path(tmp) / "log"
        args = [
            sys.executable,
            "-m",
            "proxy",
            "--hostname",
            "127.0.0.1",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--num-workers",
            "1",
            "--num-acceptors",
            "1",
            "--log-level",
            "WARNING",
            "--log-file",
            str(log),
        ]
        if basic_auth is not None:
            args += ["--basic-auth", f"{basic_auth[0]}:{basic_auth[1]}"]
        # proxy.py keeps its state (certificates, pid files) under HOME/.proxy.
        env = {**os.environ, "HOME": tmp}
        with log.open("wb") as log_out:
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log_out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: workers included
            )
        try:
            port = _wait_for_port(process, port_file, log)
            login, password = basic_auth if basic_auth is not None else (None, None)
            yield ProxyServer("127.0.0.1", port, login, password)
        finally:
            _stop(process)


@pytest.fixture(scope="session")
def http_proxy() -> Iterator[ProxyServer]:
    """An open HTTP proxy (absolute-form requests and CONNECT)."""
    with run_proxy() as server:
        yield server


@pytest.fixture(scope="session")
def http_proxy_auth() -> Iterator[ProxyServer]:
    """An HTTP proxy that answers 407 unless given Basic ``user:pass``."""
    with run_proxy(basic_auth=(PROXY_USER, PROXY_PASSWORD)) as server:
        yield server
