"""gunicorn's graceful reload (SIGHUP) with treadle's workers (issue 4): new workers
take over, a request in flight on an old worker still completes, and the server keeps
answering throughout."""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest

from ._proc import Proc, free_port, wait_listening
from .test_gunicorn import WORKERS, _gunicorn, _pids


@pytest.mark.parametrize("backend", list(WORKERS))
def test_sighup_replaces_the_workers_and_finishes_the_request_in_flight(backend: str) -> None:
    port = free_port()
    with Proc(_gunicorn(port, WORKERS[backend], "-w", "1"), group=True) as proc:
        wait_listening(port)
        (old,) = _pids(port, 1)
        result: list[httpx.Response] = []
        thread = threading.Thread(
            target=lambda: result.append(
                httpx.get(f"http://127.0.0.1:{port}/slow?t=1.5", timeout=30)
            ),
            daemon=True,
        )
        thread.start()
        proc.expect("slow started")
        proc.signal(signal.SIGHUP)
        # A new worker answers, and the old one still completes its request.
        deadline = time.monotonic() + 20
        new: set[int] = set()
        while time.monotonic() < deadline and not (new - {old}):
            new = _pids(port, 1)
            time.sleep(0.05)
        assert new - {old}, proc.output
        thread.join(30)
        assert result and (result[0].status_code, result[0].text) == (200, "slow done")
        assert _pids(port, 1) == new
        proc.signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.output
        assert "Traceback" not in proc.output, proc.output
