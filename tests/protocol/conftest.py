"""Every protocol test runs once per parsing engine."""

from __future__ import annotations

import pytest

from ._drive import ENGINES


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)
