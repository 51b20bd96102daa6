"""docs/server-routing.md's code runs (tests/test_docs.py does not list this guide yet)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "server-routing.md"
BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.DOTALL)


def test_guide_has_code() -> None:
    assert BLOCKS


@pytest.mark.parametrize("code", BLOCKS)
def test_guide_block_runs(code: str) -> None:
    exec(compile(code, str(GUIDE), "exec"), {})
