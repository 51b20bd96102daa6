"""``HTTPException``: an HTTP reply as an exception, and the checks on what it sends.

A handler either raises one (``raise web.HTTPNotFound()``) or returns one; both mean
"answer with this status". In aiohttp these classes are also ``Response`` objects. Here
they only *carry the data* of the reply -- ``status``, ``reason``, ``headers``
(a ``CIMultiDict``), ``body`` bytes or ``text`` and ``content_type``/``charset`` -- and
the server layer turns that into a response when it catches or receives one. That keeps
the routing layer free of the Response machinery and lets the protocol core write them.

What goes on the wire is checked here, where the caller can still be told: reason
phrases and header values carrying CR, LF or other control characters, and redirect
locations or links carrying them, are refused with ``ValueError`` (header injection,
RFC 9110 5.5, RFC 9112 4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any, ClassVar

from multidict import CIMultiDict, CIMultiDictProxy, MultiDictProxy
from yarl import URL

from ._hdrs import TOKEN_RE

LooseHeaders = (
    Mapping[str, str]
    | CIMultiDict[str]
    | CIMultiDictProxy[str]
    | MultiDictProxy[str]
    | Iterable[tuple[str, str]]
)
StrOrURL = str | URL

_CONTENT_TYPE = "Content-Type"


def _has_ctl(value: str, *, allow_tab: bool) -> bool:
    """True when ``value`` holds a C0 control character or DEL (CR and LF among them)."""
    return any((ord(c) < 0x20 and not (allow_tab and c == "\t")) or c == "\x7f" for c in value)


def check_header(name: str, value: str) -> None:
    """Refuse a field that would split or corrupt the header block (RFC 9110 5.1, 5.5)."""
    if not isinstance(name, str) or not TOKEN_RE.fullmatch(name):
        raise ValueError(f"invalid header name {name!r}: it must be an RFC 9110 token")
    if not isinstance(value, str):
        raise TypeError(f"header {name!r} value must be str, got {type(value).__name__}")
    if _has_ctl(value, allow_tab=True):
        raise ValueError(f"header {name!r} value {value!r} contains control characters")


def check_uri(value: StrOrURL, what: str) -> str:
    """Refuse a URI for a header whose text holds control characters (RFC 3986 2).

    yarl silently drops CR and LF, so the check runs on the text as given.
    """
    text = str(value)
    if _has_ctl(text, allow_tab=False):
        raise ValueError(f"{what} {text!r} contains control characters (CR, LF, ...)")
    return str(URL(value))


class HTTPException(Exception):
    """Base of the family: an HTTP reply that can be raised or returned by a handler.

    The server layer builds the response from ``status``, ``reason``, ``headers`` and
    ``body``; subclasses fix ``status_code``. ``str(exc)`` is the reason phrase.
    """

    __http_exception__ = True
    status_code: ClassVar[int] = -1
    empty_body: ClassVar[bool] = False
    default_reason: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "default_reason" not in cls.__dict__ and cls.status_code >= 0:
            try:
                cls.default_reason = HTTPStatus(cls.status_code).phrase
            except ValueError:
                cls.default_reason = ""

    def __init__(
        self,
        *,
        headers: LooseHeaders | None = None,
        reason: str | None = None,
        body: bytes | None = None,
        text: str | None = None,
        content_type: str | None = None,
    ) -> None:
        if reason is None:
            reason = self.default_reason
        elif _has_ctl(reason, allow_tab=True):
            raise ValueError(f"reason {reason!r} contains control characters")
        super().__init__(reason)
        self._reason = reason
        self._headers: CIMultiDict[str] = CIMultiDict()
        for name, value in CIMultiDict(headers or {}).items():
            check_header(name, value)
            self._headers.add(name, value)
        if body is not None and text is not None:
            raise ValueError("body and text are not allowed together")
        if content_type is not None:
            if "charset" in content_type.lower():
                raise ValueError("charset must not be in content_type argument")
            if _CONTENT_TYPE in self._headers:
                raise ValueError("passing both Content-Type header and content_type is forbidden")
            check_header(_CONTENT_TYPE, content_type)
        self._body: bytes | None = None
        self._text: str | None = None
        self._content_type = content_type
        if text is None and body is None and not self.empty_body:
            text = f"{self.status}: {reason}"
        if text is not None:
            self.text = text
        elif body is not None:
            self.body = body

    # -- the reply's data, read by the server layer ---------------------------------

    @property
    def status(self) -> int:
        """The status code (also ``status_code`` on the class)."""
        return self.status_code

    @property
    def reason(self) -> str:
        return self._reason

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._headers

    @property
    def text(self) -> str | None:
        """The body as text (UTF-8 unless ``charset`` says otherwise), or None."""
        if self._text is None and self._body is not None:
            return self._body.decode(self.charset or "utf-8", "replace")
        return self._text

    @text.setter
    def text(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"text argument must be str, got {type(text).__name__}")
        self._text = text
        self._body = None
        if self._content_type is None and _CONTENT_TYPE not in self._headers:
            self._content_type = "text/plain"
        charset = self.charset or "utf-8"
        if self._content_type is not None:
            self._headers[_CONTENT_TYPE] = f"{self._content_type}; charset={charset}"
        self._body = text.encode(charset)

    @property
    def body(self) -> bytes | None:
        """The body bytes the server sends, or None for a bodiless reply."""
        return self._body

    @body.setter
    def body(self, body: bytes) -> None:
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError(f"body argument must be bytes, got {type(body).__name__}")
        self._body = bytes(body)
        self._text = None
        if self._content_type is None and _CONTENT_TYPE not in self._headers:
            self._content_type = "application/octet-stream"
            self._headers[_CONTENT_TYPE] = self._content_type

    @property
    def content_type(self) -> str | None:
        """The media type without parameters (``text/plain``), from the header if set."""
        header = self._headers.get(_CONTENT_TYPE)
        if header is None:
            return self._content_type
        return header.split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        header = self._headers.get(_CONTENT_TYPE, "")
        for param in header.split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                return value.strip().strip('"').lower() or None
        return None

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:
        return self._reason

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._reason}>"

    def __reduce__(self) -> tuple[Any, ...]:
        # Constructors differ in required arguments; rebuild from the state instead.
        return (_restore, (type(self), self.__dict__.copy()))


def _restore(cls: type[HTTPException], state: dict[str, Any]) -> HTTPException:
    exc = cls.__new__(cls)
    exc.__dict__.update(state)
    Exception.__init__(exc, exc.reason)
    return exc


__all__ = ["HTTPException", "LooseHeaders", "StrOrURL", "check_header", "check_uri"]
