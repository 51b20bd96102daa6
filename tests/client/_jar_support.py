"""Shared by the cookie jar tests: a clock that moves on demand and small helpers."""

from __future__ import annotations

import calendar
from http.cookies import Morsel

from yarl import URL

from treadle.client import AbstractCookieJar, CookieJar

NOW = float(calendar.timegm((2026, 1, 1, 0, 0, 0)))


class Clock:
    """A wall clock that only moves when a test says so."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def set_cookies(jar: AbstractCookieJar, url: str, *headers: str) -> None:
    jar.update_cookies_from_headers(list(headers), URL(url))


def sent(jar: AbstractCookieJar, url: str) -> dict[str, str]:
    return {name: m.value for name, m in jar.filter_cookies(url).items()}


def stored(jar: CookieJar) -> dict[str, Morsel[str]]:
    return {m.key: m for m in jar}
