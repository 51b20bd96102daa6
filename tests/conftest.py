"""Test-suite wide set-up: every async test runs on asyncio, asyncio+uvloop and trio.

``anyio_mode = "auto"`` (pyproject.toml) hands every coroutine test to anyio's pytest
plugin, which parametrises it over the ``anyio_backend`` fixture below.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import settings

# CI runs the properties on a fixed seed so a landing never depends on luck; local runs
# stay random so every run can find something new (TREADLE_PROPERTY_SCALE raises the
# example counts of the protocol properties).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

BACKENDS = [
    pytest.param(("asyncio", {}), id="asyncio"),
    pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"),
    pytest.param(("trio", {}), id="trio"),
]


@pytest.fixture(params=BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    """anyio's pytest plugin reads this fixture: one run per backend."""
    return request.param
