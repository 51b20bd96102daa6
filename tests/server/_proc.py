"""Servers in subprocesses for the run_app, CLI, gunicorn and example tests.

Output is read by a thread into a queue, so every wait has a deadline; the process is
killed on exit from the ``with`` block whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[2]
BANNER = re.compile(r"======== Running on (\S+?) ========")


def free_port() -> int:
    """A port that was free a moment ago (for servers that cannot report theirs)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return True
    return False


def wait_refused(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if refuses(port):
            return True
        time.sleep(0.02)
    return False


def wait_listening(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not refuses(port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


class Proc:
    """``with Proc([...]) as p:`` runs a Python subprocess from the repository root."""

    def __init__(
        self, args: list[str], env: dict[str, str] | None = None, *, group: bool = False
    ) -> None:
        """``group=True``: the process leads its own process group (gunicorn and its
        workers), and the whole group is killed on exit."""
        self.group = group
        full_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.process = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=group,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def expect(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """Wait for an output line matching ``pattern`` (a regex); fail with the output."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._queue.get(timeout=max(remaining, 0.0))
            except queue.Empty:
                raise AssertionError(
                    f"no line matching {pattern!r} in {timeout} s; output:\n" + self.output
                ) from None
            if line is None:
                self._queue.put(None)
                raise AssertionError(
                    f"process ended without printing {pattern!r}; output:\n" + self.output
                )
            self.lines.append(line)
            match = regex.search(line)
            if match:
                return match

    def banner_port(self, timeout: float = 20.0) -> int:
        url = self.expect(BANNER.pattern, timeout).group(1)
        return int(url.rsplit(":", 1)[1])

    def signal(self, signum: int = signal.SIGINT) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 20.0) -> int:
        try:
            code = self.process.wait(timeout)
            self._reader.join(5)
        finally:
            self._drain()
        return code

    def _drain(self) -> None:
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def __enter__(self) -> Proc:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.group:
            # The group is the one this Proc started (its id is the leader's pid).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        elif self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._reader.join(5)
