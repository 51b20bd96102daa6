"""``run_app``: graceful shutdown on SIGINT/SIGTERM in a real process, on every backend.

The app (``tests/server/apps/slow.py``) prints each step it reaches; the tests drive it
with real signals and an httpx client, and always kill it in the end.
"""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest

from treadle.backends import BACKEND_NAMES

from ._proc import Proc, refuses, wait_refused

SLOW_APP = ["-m", "tests.server.apps.slow"]


class Background:
    """One blocking httpx request in a thread; ``result()`` waits for it (bounded)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.response: httpx.Response | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(url, timeout), daemon=True)
        self._thread.start()

    def _run(self, url: str, timeout: float) -> None:
        try:
            self.response = httpx.get(url, timeout=timeout)
        except BaseException as exc:
            self.error = exc

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self, timeout: float = 30.0) -> httpx.Response:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the request did not finish"
        if self.error is not None:
            raise self.error
        assert self.response is not None
        return self.response


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_lets_the_request_in_flight_finish(backend: str, signum: int) -> None:
    with Proc([*SLOW_APP, "--backend", backend]) as proc:
        port = proc.banner_port()
        assert proc.lines[-1] == f"======== Running on http://127.0.0.1:{port} ========"
        proc.expect(r"^\(Press CTRL\+C to quit\)$")
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/pid", timeout=10).text == str(proc.process.pid)
        request = Background(f"{base}/slow?t=1.5")
        proc.expect("slow started")
        proc.signal(signum)
        # New connections are refused while the slow request is still running.
        assert wait_refused(port), "the listener stayed open after the signal"
        assert not request.done(), "the slow request ended before the listener closed"
        response = request.result()
        assert (response.status_code, response.text) == (200, "slow done")
        assert proc.wait() == 0, proc.output
        out = proc.lines
        assert "on_shutdown" in out and "on_cleanup" in out and "exited run_app" in out
        assert out.index("on_shutdown") < out.index("slow done") < out.index("on_cleanup")
        assert "Traceback" not in proc.output


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_shutdown_timeout_cancels_a_handler_that_takes_too_long(backend: str) -> None:
    with Proc([*SLOW_APP, "--backend", backend, "--shutdown-timeout", "0.5"]) as proc:
        port = proc.banner_port()
        request = Background(f"http://127.0.0.1:{port}/slow?t=30")
        proc.expect("slow started")
        started = time.monotonic()
        proc.signal(signal.SIGINT)
        assert proc.wait() == 0, proc.output
        assert time.monotonic() - started < 15
        assert "slow done" not in proc.lines and "on_cleanup" in proc.lines
        # The client sees the connection end without a response.
        with pytest.raises(httpx.HTTPError):
            request.result()


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_second_signal_cuts_the_graceful_shutdown_short(backend: str) -> None:
    with Proc([*SLOW_APP, "--backend", backend]) as proc:
        port = proc.banner_port()
        request = Background(f"http://127.0.0.1:{port}/slow?t=30")
        proc.expect("slow started")
        proc.signal(signal.SIGINT)
        assert wait_refused(port)
        proc.expect("on_shutdown")
        proc.signal(signal.SIGINT)
        proc.wait()
        assert "slow done" not in proc.lines
        with pytest.raises(httpx.HTTPError):
            request.result()


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_idle_server_stops_at_once(backend: str) -> None:
    with Proc([*SLOW_APP, "--backend", backend]) as proc:
        port = proc.banner_port()
        # An idle keep-alive connection must not hold the shutdown up.
        with httpx.Client(timeout=10) as client:
            assert client.get(f"http://127.0.0.1:{port}/pid").status_code == 200
            started = time.monotonic()
            proc.signal(signal.SIGTERM)
            assert proc.wait() == 0, proc.output
        assert time.monotonic() - started < 10
        assert refuses(port)
