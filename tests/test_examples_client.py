"""Every seed client example runs to the end on asyncio, uvloop and trio.

Each example starts its own local httpbin-like server (``examples/_seed_support.py``)
and prints what it got; the lines checked here prove each snippet did its job.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

EXPECTED = {
    "seed_client_guide.py": [
        "2.2 fetch_data -> {'q': 'treadle'}",
        "4.2 downloaded 3000000 bytes",
        "6   500 -> http error 500",
        "6   refused -> connection error",
        "7.2 call_service -> POST {'item': 42}",
        "Request failed: Cannot connect to host 127.0.0.1",
    ],
    "seed_client_patterns.py": [
        "fetch_all: 5 pages",
        "  GET: {'key': 'value'}",
        "  POST json: {'key': 'value'}",
        "HTTP error: 404",
        "retry gave up: 503",
        "upload: multipart/form-data",
        "download: 100000 bytes",
    ],
    "seed_client_reference.py": [
        '"Authorization": "Basic dXNlcjpwd2Q="',
        '"data": "{\\"name\\":\\"aiohttp\\",\\"type\\":\\"example\\"}"',
        ">> GET http://127.0.0.1:",
        "<< 200",
        "'path': '/ip'",
    ],
}


def test_every_seed_client_example_is_checked() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("seed_client_*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("backend", ["asyncio", "uvloop", "trio"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_client_example(name: str, backend: str) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--backend", backend],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    for line in EXPECTED[name]:
        assert line in result.stdout, f"{line!r} missing from:\n{result.stdout}"
    assert "Traceback" not in result.stderr
