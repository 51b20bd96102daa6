"""``set_cookie``/``del_cookie`` of responses: ``Set-Cookie`` fields (RFC 6265 4.1).

``http.cookies.SimpleCookie`` does the quoting: a value with separators, CR or LF is
sent as a quoted string with octal escapes, so a cookie value can never split the
header block. Names must be RFC 9110 tokens (``CookieError`` otherwise).
"""

from __future__ import annotations

from datetime import datetime
from http.cookies import SimpleCookie

__all__ = ["CookieMixin"]

_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


class CookieMixin:
    """The cookie part of ``StreamResponse``; ``_cookies`` is made on first use."""

    __slots__ = ()
    _cookies: SimpleCookie | None
    # Names sent with the CHIPS ``Partitioned`` flag, which ``Morsel`` does not know
    # before Python 3.14; appended to the field rather than patched into ``http.cookies``.
    _partitioned: frozenset[str] = frozenset()

    @property
    def cookies(self) -> SimpleCookie:
        cookies = self._cookies
        if cookies is None:
            cookies = self._cookies = SimpleCookie()  # type: ignore[misc]
        return cookies

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        expires: str | datetime | None = None,
        domain: str | None = None,
        max_age: int | str | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool | None = None,
        version: str | None = None,
        samesite: str | None = None,
        partitioned: bool | None = None,
    ) -> None:
        """Add or replace cookie ``name``; ``expires`` and ``max_age`` as in RFC 6265 5.2."""
        cookies = self.cookies
        old = cookies.get(name)
        if old is not None and old.coded_value == "":
            # A deleted cookie set again: drop the deletion's Expires/Max-Age.
            cookies.pop(name, None)
        cookies[name] = value
        morsel = cookies[name]
        if expires is not None:
            morsel["expires"] = expires
        elif morsel.get("expires") == _EPOCH:
            del morsel["expires"]
        if domain is not None:
            morsel["domain"] = domain
        if max_age is not None:
            morsel["max-age"] = str(max_age)
        elif "max-age" in morsel:
            del morsel["max-age"]
        morsel["path"] = path
        if secure is not None:
            morsel["secure"] = secure
        if httponly is not None:
            morsel["httponly"] = httponly
        if version is not None:
            morsel["version"] = version
        if samesite is not None:
            morsel["samesite"] = samesite
        if partitioned:
            self._partitioned = self._partitioned | {name}  # type: ignore[misc]
        elif name in self._partitioned:
            self._partitioned = self._partitioned - {name}  # type: ignore[misc]

    def del_cookie(
        self,
        name: str,
        *,
        domain: str | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool | None = None,
        samesite: str | None = None,
    ) -> None:
        """Ask the client to delete cookie ``name`` (empty value, expired, Max-Age=0)."""
        self.cookies.pop(name, None)
        self.set_cookie(
            name,
            "",
            max_age=0,
            expires=_EPOCH,
            domain=domain,
            path=path,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    def _cookie_fields(self) -> list[str]:
        cookies = self._cookies
        if not cookies:
            return []
        partitioned = self._partitioned
        return [
            morsel.OutputString() + ("; Partitioned" if key in partitioned else "")
            for key, morsel in cookies.items()
        ]
