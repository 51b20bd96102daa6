"""HTTP client: ClientSession and friends (built by the client issue)."""

from __future__ import annotations

from ._cookiejar import AbstractCookieJar, CookieJar, DummyCookieJar
from ._request import ClientRequest, HttpVersion, HttpVersion10, HttpVersion11
from ._response import ClientResponse, ContentDisposition
from ._session import ClientSession, request
from ._session_request import ClientHandlerType, ClientMiddlewareType

__all__ = [
    "AbstractCookieJar",
    "ClientHandlerType",
    "ClientMiddlewareType",
    "ClientRequest",
    "ClientResponse",
    "ClientSession",
    "ContentDisposition",
    "CookieJar",
    "DummyCookieJar",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "request",
]
