"""HTTP server: routing and the ``HTTPException`` family (the I/O-free parts so far).

These are the names ``treadle.web`` will re-export with aiohttp's spelling. Request,
Response, Application and the runner come with the server issue; until then handlers
are typed loosely (see ``_abc``) and HTTP exceptions carry the data of the reply for
the server layer to send. See ``docs/server-routing.md``.
"""

from __future__ import annotations

from . import _exceptions, _hdrs, _routedef
from ._abc import AbstractView, Handler, RequestLike, SubApplication, SubAppRouter
from ._accesslog import AbstractAccessLogger, AccessLogger
from ._app import Application
from ._app_support import AppKey, CleanupError
from ._exceptions import *  # noqa: F403 -- the whole family, listed in _exceptions.__all__
from ._file_response import FileResponse
from ._handler import RequestHandler
from ._hdrs import *  # noqa: F403
from ._matchinfo import (
    AbstractRoute,
    MatchInfoError,
    ResourceRoute,
    SystemRoute,
    UrlMappingMatchInfo,
)
from ._middlewares import middleware, normalize_path_middleware
from ._request import BaseRequest, FileField, Request
from ._resources import AbstractResource, DynamicResource, PlainResource, PrefixResource, Resource
from ._response import ContentCoding, Response, StreamResponse, json_response
from ._routedef import *  # noqa: F403
from ._router import ResourcesView, RoutesView, UrlDispatcher
from ._run_app import run_app
from ._runner import AppRunner, BaseRunner, GracefulExit, ServerRunner
from ._sites import BaseSite, SockSite, TCPSite, UnixSite
from ._static import StaticResource, StaticResponder, StaticTarget
from ._subapps import (
    AbstractRuleMatching,
    Domain,
    MaskDomain,
    MatchedSubAppResource,
    PrefixedSubAppResource,
    domain_rule,
)
from ._view import View
from ._web_server import Server
from ._websocket import WebSocketReady, WebSocketResponse, WSMsgType
from ._writer import HTTPWriter, Upgraded

__all__ = [
    *_exceptions.__all__,
    *_hdrs.__all__,
    *_routedef.__all__,
    "AbstractAccessLogger",
    "AbstractResource",
    "AccessLogger",
    "AppKey",
    "Application",
    "CleanupError",
    "HTTPWriter",
    "RequestHandler",
    "Server",
    "Upgraded",
    "middleware",
    "normalize_path_middleware",
    "BaseRequest",
    "ContentCoding",
    "FileField",
    "FileResponse",
    "Request",
    "Response",
    "StreamResponse",
    "json_response",
    "AbstractRoute",
    "AppRunner",
    "BaseRunner",
    "BaseSite",
    "GracefulExit",
    "ServerRunner",
    "SockSite",
    "TCPSite",
    "UnixSite",
    "run_app",
    "AbstractRuleMatching",
    "AbstractView",
    "Domain",
    "DynamicResource",
    "Handler",
    "MaskDomain",
    "MatchInfoError",
    "MatchedSubAppResource",
    "PlainResource",
    "PrefixResource",
    "PrefixedSubAppResource",
    "RequestLike",
    "Resource",
    "ResourceRoute",
    "ResourcesView",
    "RoutesView",
    "StaticResource",
    "StaticResponder",
    "StaticTarget",
    "SubAppRouter",
    "SubApplication",
    "SystemRoute",
    "UrlDispatcher",
    "UrlMappingMatchInfo",
    "View",
    "domain_rule",
    "WSMsgType",
    "WebSocketReady",
    "WebSocketResponse",
]
