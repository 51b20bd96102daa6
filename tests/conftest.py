"""Test-suite wide set-up: every async test runs on asyncio, asyncio+uvloop and trio.

``anyio_mode = "auto"`` (pyproject.toml) hands every coroutine test to anyio's pytest
plugin, which parametrises it over the ``anyio_backend`` fixture below.
"""

from __future__ import annotations

from typing import Any

import pytest

BACKENDS = [
    pytest.param(("asyncio", {}), id="asyncio"),
    pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"),
    pytest.param(("trio", {}), id="trio"),
]


@pytest.fixture(params=BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    """anyio's pytest plugin reads this fixture: one run per backend."""
    return request.param
