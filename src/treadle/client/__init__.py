"""HTTP client: ClientSession and friends (built by the client issue)."""

from __future__ import annotations

from ._cookiejar import AbstractCookieJar, CookieJar, DummyCookieJar

__all__ = ["AbstractCookieJar", "CookieJar", "DummyCookieJar"]
