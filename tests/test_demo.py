"""``make demo`` keeps working: the demo program runs and reports every engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from treadle.protocol import available_engines

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"


def test_demo_runs() -> None:
    completed = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=120, check=True
    )
    for engine in available_engines():
        assert f"engine {engine}:" in completed.stdout
    assert completed.stdout.count("GET /hello -> 200") == len(available_engines())
    assert "req/s" in completed.stdout
