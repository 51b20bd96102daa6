"""Shared handlers for the routing tests."""

from __future__ import annotations

from typing import Any

import pytest

from treadle import server as web


async def handler(request: Any) -> str:
    return "handler"


async def other(request: Any) -> str:
    return "other"


@pytest.fixture
def router() -> web.UrlDispatcher:
    return web.UrlDispatcher()
