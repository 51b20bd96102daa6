"""``make demo`` keeps working: the demo program runs every engine and every backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from treadle.backends import BACKEND_NAMES
from treadle.protocol import available_engines

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"


def test_demo_runs() -> None:
    completed = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=300, check=True
    )
    out = completed.stdout
    for engine in available_engines():
        assert f"engine {engine}:" in out
    assert out.count("GET /hello -> 200 b'Hello from /hello\\n'") == len(available_engines())
    for backend in BACKEND_NAMES:
        assert f"backend {backend}:" in out
    runs = 2 * len(BACKEND_NAMES)  # over TCP and in memory, per backend
    assert out.count("GET /hello -> 200 'Hello, treadle'") == runs
    assert out.count("POST /json {'n': 21} -> 200 {'double': 42}") == runs
    assert out.count("got ['SANS', 'IO', 'CORE']") == runs
    assert out.count("concurrent in") == runs
    assert "req/s" in out and "msg/s" in out
