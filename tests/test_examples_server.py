"""Every server snippet of the seed documents runs as ``examples/seed_server_*.py``.

Each example is started on a free loopback port on each backend, answers what its seed
says it answers, and stops cleanly (exit 0, cleanup callbacks run) on SIGINT.
"""

from __future__ import annotations

import signal
from collections.abc import Callable

import httpx
import pytest

from treadle.backends import BACKEND_NAMES

from .server._proc import Proc


def _hello(base: str, proc: Proc) -> None:
    assert httpx.get(f"{base}/", timeout=10).text == "Hello, Anonymous"
    assert httpx.get(f"{base}/Alice", timeout=10).text == "Hello, Alice"


def _auth_middleware(base: str, proc: Proc) -> None:
    assert httpx.get(f"{base}/", timeout=10).status_code == 401
    authorized = httpx.get(f"{base}/", headers={"Authorization": "Bearer x"}, timeout=10)
    assert authorized.status_code == 404


def _debug_signals(base: str, proc: Proc) -> None:
    assert "init_db: connected" in proc.lines
    assert httpx.get(f"{base}/", timeout=10).status_code == 404


def _json(base: str, proc: Proc) -> None:
    assert httpx.get(f"{base}/", timeout=10).json() == {"message": "Hello, World"}
    assert httpx.get(f"{base}/Bob", timeout=10).json() == {"message": "Hello, Bob"}
    posted = httpx.post(f"{base}/data", json={"a": [1, 2]}, timeout=10)
    assert posted.json() == {"received": {"a": [1, 2]}}


def _middleware(base: str, proc: Proc) -> None:
    assert httpx.get(f"{base}/missing", timeout=10).status_code == 404
    proc.expect("^GET /missing$")


def _session_state(base: str, proc: Proc) -> None:
    assert "pool opened" in proc.lines
    assert httpx.get(f"{base}/", timeout=10).status_code == 404


EXAMPLES: dict[str, tuple[Callable[[str, Proc], None], str | None]] = {
    "seed_server_hello": (_hello, None),
    "seed_server_auth_middleware": (_auth_middleware, None),
    "seed_server_debug_signals": (_debug_signals, "close_db: closed"),
    "seed_server_json": (_json, None),
    "seed_server_middleware": (_middleware, None),
    "seed_server_session_state": (_session_state, "pool closed"),
}


# seed_server_auth_middleware uses an old-style ``async def mw(app, handler)`` factory,
# which web.Application runs as aiohttp 3.x does (with a DeprecationWarning).
@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_seed_server_example(name: str, backend: str) -> None:
    check, on_exit = EXAMPLES[name]
    args = [f"examples/{name}.py", "--host", "127.0.0.1", "--port", "0", "--backend", backend]
    with Proc(args) as proc:
        port = proc.banner_port()
        check(f"http://127.0.0.1:{port}", proc)
        proc.signal(signal.SIGINT)
        assert proc.wait() == 0, proc.output
        if on_exit is not None:
            assert on_exit in proc.lines, proc.output
        assert "Traceback" not in proc.output, proc.output
