"""gunicorn with treadle's workers: two worker processes answer, SIGTERM stops them all."""

from __future__ import annotations

import signal
import threading
import time

import gunicorn  # type: ignore[import-untyped]
import httpx
import pytest

from ._proc import Proc, free_port, wait_listening, wait_refused

# gunicorn 27 opens a control socket in $HOME by default: test runs side by side clash.
NO_CONTROL_SOCKET = ["--no-control-socket"] if gunicorn.version_info >= (27,) else []

WORKERS = {
    "asyncio": "treadle.worker.GunicornWebWorker",
    "uvloop": "treadle.worker.GunicornUVLoopWebWorker",
    "trio": "treadle.worker.GunicornTrioWebWorker",
}


def _gunicorn(port: int, worker: str, *extra: str) -> list[str]:
    return [
        "-m",
        "gunicorn",
        "-k",
        worker,
        "-b",
        f"127.0.0.1:{port}",
        "--graceful-timeout",
        "10",
        *NO_CONTROL_SOCKET,
        *extra,
        "tests.server.apps.slow:make_app()",
    ]


def _pids(port: int, want: int, attempts: int = 400, pause: float = 0.0) -> set[int]:
    """Worker pids seen over fresh connections until ``want`` differ (bounded)."""
    pids: set[int] = set()
    for _ in range(attempts):
        response = httpx.get(
            f"http://127.0.0.1:{port}/pid", headers={"Connection": "close"}, timeout=10
        )
        assert response.status_code == 200
        pids.add(int(response.text))
        if len(pids) >= want:
            break
        time.sleep(pause)
    return pids


@pytest.mark.parametrize("backend", list(WORKERS))
def test_two_workers_answer_then_sigterm_stops_them(backend: str) -> None:
    port = free_port()
    with Proc(_gunicorn(port, WORKERS[backend], "-w", "2"), group=True) as proc:
        wait_listening(port)
        pids = _pids(port, 2)
        assert len(pids) == 2, proc.output
        assert proc.process.pid not in pids
        proc.signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.output
        assert wait_refused(port)
        assert "Traceback" not in proc.output, proc.output


@pytest.mark.parametrize("backend", list(WORKERS))
def test_sigterm_lets_a_request_in_flight_finish(backend: str) -> None:
    port = free_port()
    with Proc(_gunicorn(port, WORKERS[backend], "-w", "1"), group=True) as proc:
        wait_listening(port)
        with httpx.Client(timeout=30) as client:
            started = time.monotonic()
            result: list[httpx.Response] = []
            thread = threading.Thread(
                target=lambda: result.append(client.get(f"http://127.0.0.1:{port}/slow?t=1.5")),
                daemon=True,
            )
            thread.start()
            proc.expect("slow started")
            proc.signal(signal.SIGTERM)
            thread.join(30)
        assert result and (result[0].status_code, result[0].text) == (200, "slow done")
        assert time.monotonic() - started >= 1.5
        assert proc.wait(30) == 0, proc.output
        assert "on_cleanup" in proc.lines


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_max_requests_restarts_the_worker(backend: str) -> None:
    port = free_port()
    args = _gunicorn(port, WORKERS[backend], "-w", "1", "--max-requests", "3")
    with Proc(args, group=True) as proc:
        wait_listening(port)
        pids = _pids(port, 2, attempts=60, pause=0.1)
        assert len(pids) == 2, proc.output
        proc.signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.output
