"""Code in the docs runs: every ```python block of the README and listed guides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = [
    "README.md",
    "docs/protocol.md",
    "docs/server-routing.md",
    "docs/server.md",
    "docs/client.md",
    "docs/client-cookies.md",
    "docs/client-advanced.md",
    "docs/client-connector.md",
    "docs/message.md",
    "docs/running.md",
    "docs/websocket.md",
    "docs/testing.md",
    "docs/migrating.md",
]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _blocks() -> list[object]:
    params = []
    for name in CHECKED:
        for index, code in enumerate(BLOCK.findall((ROOT / name).read_text())):
            params.append(pytest.param(code, id=f"{name}#{index}"))
    return params


@pytest.mark.parametrize("code", _blocks())
def test_doc_snippet_runs(code: str) -> None:
    namespace: dict[str, object] = {}
    exec(compile(code, "<doc>", "exec"), namespace)


@pytest.mark.parametrize("name", CHECKED)
def test_every_checked_guide_has_code(name: str) -> None:
    assert BLOCK.findall((ROOT / name).read_text()), f"{name} has no ```python block"
