"""Autobahn sections 1-7 (framing, pings, reserved bits, opcodes, fragmentation, UTF-8,
closing) through kosoku, against treadle's server and with treadle's client, on asyncio.

``make conformance`` runs the whole suite on every backend (``conformance/run.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("kosoku")

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = [f"{n}.*" for n in range(1, 8)]


def test_autobahn_sections_1_to_7_on_asyncio() -> None:
    args = [sys.executable, str(ROOT / "conformance" / "run.py"), "--backend", "asyncio"]
    for section in SECTIONS:
        args += ["--cases", section]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=180, cwd=ROOT)
    summary = {
        line.split()[1]: line for line in proc.stdout.splitlines() if line.startswith("asyncio")
    }
    assert set(summary) == {"server", "client"}, proc.stdout + proc.stderr
    for line in summary.values():
        assert "FAILED    0" in line, proc.stdout
        ok = int(line.split("OK")[1].split()[0])
        assert ok > 200, line  # the sections hold ~250 cases: most must be plainly OK
    assert proc.returncode == 0, proc.stdout + proc.stderr
