"""HTTP client: ClientSession and friends (built by the client issue)."""

from __future__ import annotations

from . import _exceptions
from ._auth import BasicAuth, DigestAuthMiddleware
from ._connector import BaseConnector, TCPConnector, UnixConnector
from ._cookiejar import AbstractCookieJar, CookieJar, DummyCookieJar
from ._exceptions import *  # noqa: F403  (aiohttp's client exception tree, _exceptions.__all__)
from ._request import ClientRequest, HttpVersion, HttpVersion10, HttpVersion11
from ._response import ClientResponse, ContentDisposition
from ._session import ClientSession, request
from ._session_request import ClientHandlerType, ClientMiddlewareType
from ._timeout import ClientTimeout
from ._tracing import (
    TraceConfig,
    TraceConnectionCreateEndParams,
    TraceConnectionCreateStartParams,
    TraceConnectionQueuedEndParams,
    TraceConnectionQueuedStartParams,
    TraceConnectionReuseconnParams,
    TraceDnsCacheHitParams,
    TraceDnsCacheMissParams,
    TraceDnsResolveHostEndParams,
    TraceDnsResolveHostStartParams,
    TraceRequestChunkSentParams,
    TraceRequestEndParams,
    TraceRequestExceptionParams,
    TraceRequestHeadersSentParams,
    TraceRequestRedirectParams,
    TraceRequestStartParams,
    TraceResponseChunkReceivedParams,
)
from ._ws import ClientWebSocketResponse, ClientWSTimeout

__all__ = [
    "AbstractCookieJar",
    "BasicAuth",
    "ClientHandlerType",
    "ClientMiddlewareType",
    "ClientRequest",
    "ClientResponse",
    "ClientSession",
    "ContentDisposition",
    "CookieJar",
    "DigestAuthMiddleware",
    "DummyCookieJar",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "TraceConfig",
    "TraceConnectionCreateEndParams",
    "TraceConnectionCreateStartParams",
    "TraceConnectionQueuedEndParams",
    "TraceConnectionQueuedStartParams",
    "TraceConnectionReuseconnParams",
    "TraceDnsCacheHitParams",
    "TraceDnsCacheMissParams",
    "TraceDnsResolveHostEndParams",
    "TraceDnsResolveHostStartParams",
    "TraceRequestChunkSentParams",
    "TraceRequestEndParams",
    "TraceRequestExceptionParams",
    "TraceRequestHeadersSentParams",
    "TraceRequestRedirectParams",
    "TraceRequestStartParams",
    "TraceResponseChunkReceivedParams",
    "request",
    "BaseConnector",
    "ClientTimeout",
    "ClientWSTimeout",
    "ClientWebSocketResponse",
    "TCPConnector",
    "UnixConnector",
]
__all__ += _exceptions.__all__
