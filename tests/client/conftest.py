"""Fixtures of the cookie jar tests: a jar on a clock that moves only when told."""

from __future__ import annotations

import pytest

from treadle.client import CookieJar

from ._auth_proxy_server import auth_app_tls, auth_app_url  # noqa: F401  (uvicorn)
from ._jar_support import Clock
from ._uvicorn_server import asgi_url  # noqa: F401  (fixture of the session tests)
from .proxy_fixture import http_proxy, http_proxy_auth  # noqa: F401  (real proxy.py)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def jar(clock: Clock) -> CookieJar:
    return CookieJar(_clock=clock)
