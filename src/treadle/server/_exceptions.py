"""aiohttp's ``HTTPException`` family: HTTP error and status replies as exceptions.

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


class HTTPError(HTTPException):
    """Base class for exceptions with status codes in the 400s and 500s."""


class HTTPRedirection(HTTPException):
    """Base class for exceptions with status codes in the 300s."""


class HTTPSuccessful(HTTPException):
    """Base class for exceptions with status codes in the 200s."""


class HTTPOk(HTTPSuccessful):
    status_code = 200


class HTTPCreated(HTTPSuccessful):
    status_code = 201


class HTTPAccepted(HTTPSuccessful):
    status_code = 202


class HTTPNonAuthoritativeInformation(HTTPSuccessful):
    status_code = 203


class HTTPNoContent(HTTPSuccessful):
    """204: never has a body (RFC 9110 15.3.5)."""

    status_code = 204
    empty_body = True


class HTTPResetContent(HTTPSuccessful):
    """205: never has a body (RFC 9110 15.3.6)."""

    status_code = 205
    empty_body = True


class HTTPPartialContent(HTTPSuccessful):
    status_code = 206


class HTTPMove(HTTPRedirection):
    """A redirect: ``location`` becomes the ``Location`` header (RFC 9110 10.2.2)."""

    def __init__(
        self,
        location: StrOrURL,
        *,
        headers: LooseHeaders | None = None,
        reason: str | None = None,
        body: bytes | None = None,
        text: str | None = None,
        content_type: str | None = None,
    ) -> None:
        if not location:
            raise ValueError("HTTP redirects need a location to redirect to.")
        header = check_uri(location, "redirect location")
        super().__init__(
            headers=headers, reason=reason, body=body, text=text, content_type=content_type
        )
        self.headers["Location"] = header
        self.location = location


class HTTPMultipleChoices(HTTPMove):
    status_code = 300


class HTTPMovedPermanently(HTTPMove):
    status_code = 301


class HTTPFound(HTTPMove):
    status_code = 302


class HTTPSeeOther(HTTPMove):
    """303: safe after a POST, the client fetches the new location with GET."""

    status_code = 303


class HTTPNotModified(HTTPRedirection):
    """304: never has a body (RFC 9110 15.4.5)."""

    status_code = 304
    empty_body = True


class HTTPUseProxy(HTTPMove):
    status_code = 305


class HTTPTemporaryRedirect(HTTPMove):
    status_code = 307


class HTTPPermanentRedirect(HTTPMove):
    status_code = 308


class HTTPClientError(HTTPError):
    """Base class for 4xx replies."""


class HTTPBadRequest(HTTPClientError):
    status_code = 400


class HTTPUnauthorized(HTTPClientError):
    status_code = 401


class HTTPPaymentRequired(HTTPClientError):
    status_code = 402


class HTTPForbidden(HTTPClientError):
    status_code = 403


class HTTPNotFound(HTTPClientError):
    status_code = 404


class HTTPMethodNotAllowed(HTTPClientError):
    """405 with the ``Allow`` header listing what the resource accepts (RFC 9110 15.5.6)."""

    status_code = 405

    def __init__(
        self,
        method: str,
        allowed_methods: Iterable[str],
        *,
        headers: LooseHeaders | None = None,
        reason: str | None = None,
        body: bytes | None = None,
        text: str | None = None,
        content_type: str | None = None,
    ) -> None:
        allowed = set(allowed_methods)
        allow = ",".join(sorted(allowed))
        super().__init__(
            headers=headers, reason=reason, body=body, text=text, content_type=content_type
        )
        check_header("Allow", allow)
        self.headers["Allow"] = allow
        self._allowed = allowed
        self._method = method

    @property
    def allowed_methods(self) -> set[str]:
        return self._allowed

    @property
    def method(self) -> str:
        return self._method


class HTTPNotAcceptable(HTTPClientError):
    status_code = 406


class HTTPProxyAuthenticationRequired(HTTPClientError):
    status_code = 407


class HTTPRequestTimeout(HTTPClientError):
    status_code = 408


class HTTPConflict(HTTPClientError):
    status_code = 409


class HTTPGone(HTTPClientError):
    status_code = 410


class HTTPLengthRequired(HTTPClientError):
    status_code = 411


class HTTPPreconditionFailed(HTTPClientError):
    status_code = 412


class HTTPRequestEntityTooLarge(HTTPClientError):
    """413; the default text says which limit the body exceeded."""

    status_code = 413

    def __init__(self, max_size: float, actual_size: float, **kwargs: Any) -> None:
        kwargs.setdefault(
            "text", f"Maximum request body size {max_size} exceeded, actual body size {actual_size}"
        )
        super().__init__(**kwargs)


class HTTPRequestURITooLong(HTTPClientError):
    status_code = 414


class HTTPUnsupportedMediaType(HTTPClientError):
    status_code = 415


class HTTPRequestRangeNotSatisfiable(HTTPClientError):
    status_code = 416


class HTTPExpectationFailed(HTTPClientError):
    status_code = 417


class HTTPMisdirectedRequest(HTTPClientError):
    status_code = 421


class HTTPUnprocessableEntity(HTTPClientError):
    status_code = 422


class HTTPFailedDependency(HTTPClientError):
    status_code = 424


class HTTPUpgradeRequired(HTTPClientError):
    status_code = 426


class HTTPPreconditionRequired(HTTPClientError):
    status_code = 428


class HTTPTooManyRequests(HTTPClientError):
    status_code = 429


class HTTPRequestHeaderFieldsTooLarge(HTTPClientError):
    status_code = 431


class HTTPUnavailableForLegalReasons(HTTPClientError):
    """451 with ``Link: <link>; rel="blocked-by"`` naming who blocks it (RFC 7725 3)."""

    status_code = 451

    def __init__(
        self,
        link: StrOrURL | None,
        *,
        headers: LooseHeaders | None = None,
        reason: str | None = None,
        body: bytes | None = None,
        text: str | None = None,
        content_type: str | None = None,
    ) -> None:
        header = check_uri(link, "link") if link else None
        super().__init__(
            headers=headers, reason=reason, body=body, text=text, content_type=content_type
        )
        self._link = URL(link) if link else None
        if header is not None:
            self.headers["Link"] = f'<{header}>; rel="blocked-by"'

    @property
    def link(self) -> URL | None:
        return self._link


class HTTPServerError(HTTPError):
    """Base class for 5xx replies."""


class HTTPInternalServerError(HTTPServerError):
    status_code = 500


class HTTPNotImplemented(HTTPServerError):
    status_code = 501


class HTTPBadGateway(HTTPServerError):
    status_code = 502


class HTTPServiceUnavailable(HTTPServerError):
    status_code = 503


class HTTPGatewayTimeout(HTTPServerError):
    status_code = 504


class HTTPVersionNotSupported(HTTPServerError):
    status_code = 505


class HTTPVariantAlsoNegotiates(HTTPServerError):
    status_code = 506


class HTTPInsufficientStorage(HTTPServerError):
    status_code = 507


class HTTPNotExtended(HTTPServerError):
    status_code = 510


class HTTPNetworkAuthenticationRequired(HTTPServerError):
    status_code = 511


__all__ = [
    "HTTPException",
    "HTTPError",
    "HTTPRedirection",
    "HTTPSuccessful",
    "HTTPOk",
    "HTTPCreated",
    "HTTPAccepted",
    "HTTPNonAuthoritativeInformation",
    "HTTPNoContent",
    "HTTPResetContent",
    "HTTPPartialContent",
    "HTTPMove",
    "HTTPMultipleChoices",
    "HTTPMovedPermanently",
    "HTTPFound",
    "HTTPSeeOther",
    "HTTPNotModified",
    "HTTPUseProxy",
    "HTTPTemporaryRedirect",
    "HTTPPermanentRedirect",
    "HTTPClientError",
    "HTTPBadRequest",
    "HTTPUnauthorized",
    "HTTPPaymentRequired",
    "HTTPForbidden",
    "HTTPNotFound",
    "HTTPMethodNotAllowed",
    "HTTPNotAcceptable",
    "HTTPProxyAuthenticationRequired",
    "HTTPRequestTimeout",
    "HTTPConflict",
    "HTTPGone",
    "HTTPLengthRequired",
    "HTTPPreconditionFailed",
    "HTTPRequestEntityTooLarge",
    "HTTPRequestURITooLong",
    "HTTPUnsupportedMediaType",
    "HTTPRequestRangeNotSatisfiable",
    "HTTPExpectationFailed",
    "HTTPMisdirectedRequest",
    "HTTPUnprocessableEntity",
    "HTTPFailedDependency",
    "HTTPUpgradeRequired",
    "HTTPPreconditionRequired",
    "HTTPTooManyRequests",
    "HTTPRequestHeaderFieldsTooLarge",
    "HTTPUnavailableForLegalReasons",
    "HTTPServerError",
    "HTTPInternalServerError",
    "HTTPNotImplemented",
    "HTTPBadGateway",
    "HTTPServiceUnavailable",
    "HTTPGatewayTimeout",
    "HTTPVersionNotSupported",
    "HTTPVariantAlsoNegotiates",
    "HTTPInsufficientStorage",
    "HTTPNotExtended",
    "HTTPNetworkAuthenticationRequired",
]
