"""The public surface: aiohttp's most used names exist, and ``__all__`` says what is exported.

The names are those of ``PARITY.md`` (what aiohttp users reach for); each is checked
against the installed aiohttp too, so the list cannot drift into names aiohttp lacks.
Beyond that list, every name of ``aiohttp.__all__`` and ``aiohttp.web.__all__`` must
exist in treadle except the few recorded in ``NOT_YET``/``NOT_PLANNED``: a name
disappearing fails here, a gap closing only shrinks the lists.
"""

from __future__ import annotations

import importlib
import inspect
import types

import aiohttp
import aiohttp.test_utils
import aiohttp.web
import pytest

import treadle
import treadle.test_utils
from treadle import web

# -- PARITY.md, by namespace -------------------------------------------------------------

CLIENT = [
    # session and requests
    "ClientSession", "request", "ClientTimeout", "ClientResponse", "ClientRequest",
    "RequestInfo", "HttpVersion", "HttpVersion10", "HttpVersion11",
    # connectors, TLS, cookies, auth, bodies, tracing
    "BaseConnector", "TCPConnector", "UnixConnector", "Fingerprint",
    "CookieJar", "DummyCookieJar",
    "BasicAuth", "DigestAuthMiddleware",
    "FormData", "MultipartWriter", "MultipartReader", "BodyPartReader", "Payload",
    "BytesPayload", "StringPayload", "JsonPayload", "AsyncIterablePayload", "get_payload",
    "StreamReader",
    "TraceConfig", "TraceRequestStartParams", "TraceRequestEndParams",
    "TraceRequestExceptionParams", "TraceConnectionQueuedStartParams",
    "TraceConnectionCreateStartParams", "TraceConnectionReuseconnParams",
    "TraceDnsResolveHostStartParams", "TraceRequestRedirectParams",
    "ClientHandlerType", "ClientMiddlewareType",
    # WebSocket client
    "ClientWebSocketResponse", "ClientWSTimeout", "WSMsgType", "WSCloseCode", "WSMessage",
    # the exception tree
    "ClientError", "ClientConnectionError", "ClientOSError", "ClientConnectorError",
    "ClientConnectorSSLError", "ClientConnectorCertificateError", "ClientSSLError",
    "ClientProxyConnectionError", "ServerConnectionError", "ServerDisconnectedError",
    "ServerTimeoutError", "ConnectionTimeoutError", "SocketTimeoutError",
    "ServerFingerprintMismatch", "ClientResponseError", "ContentTypeError",
    "TooManyRedirects", "WSServerHandshakeError", "ClientPayloadError", "InvalidURL",
    "InvalidUrlClientError", "ClientConnectionResetError",
]  # fmt: skip

WEB = [
    # application, keys, signals
    "Application", "AppKey", "middleware", "normalize_path_middleware",
    # routing
    "RouteTableDef", "get", "post", "put", "patch", "delete", "head", "view", "route",
    "static", "View", "UrlDispatcher", "StaticResource",
    # requests and responses
    "Request", "BaseRequest", "FileField", "Response", "StreamResponse", "json_response",
    "FileResponse", "ContentCoding", "WebSocketResponse", "WSMsgType",
    # the HTTPException family (a sample of each class of status)
    "HTTPException", "HTTPError", "HTTPOk", "HTTPCreated", "HTTPNoContent", "HTTPFound",
    "HTTPMovedPermanently", "HTTPSeeOther", "HTTPTemporaryRedirect", "HTTPNotModified",
    "HTTPBadRequest", "HTTPUnauthorized", "HTTPForbidden", "HTTPNotFound",
    "HTTPMethodNotAllowed", "HTTPRequestEntityTooLarge", "HTTPTooManyRequests",
    "HTTPInternalServerError", "HTTPServiceUnavailable",
    # running
    "run_app", "AppRunner", "ServerRunner", "BaseRunner", "TCPSite", "UnixSite",
    "SockSite", "BaseSite", "Server", "GracefulExit", "AccessLogger",
    "AbstractAccessLogger",
]  # fmt: skip

TEST_UTILS = [
    "TestServer", "TestClient", "RawTestServer", "BaseTestServer", "make_mocked_request",
    "unused_port", "AioHTTPTestCase",
]  # fmt: skip

FIXTURES = {
    # treadle's fixture: aiohttp's
    "treadle_client": "aiohttp_client",
    "treadle_server": "aiohttp_server",
    "treadle_raw_server": "aiohttp_raw_server",
    "unused_port": "aiohttp_unused_port",
}

# -- known differences from aiohttp's __all__ (see docs/migrating.md) ----------------------

NOT_YET = {
    "aiohttp": {
        "BadContentDispositionHeader",
        "BadContentDispositionParam",
        "PAYLOAD_REGISTRY",
        "payload_type",
        "streamer",
        "encode_basic_auth",
        "hdrs",
        "AsyncResolver",
        "DefaultResolver",
        "ThreadedResolver",
        "AddrInfoType",
        "SocketFactoryType",
        "UploadTracker",
        "GunicornWebWorker",  # treadle.worker has the workers
        "GunicornUVLoopWebWorker",
    },
    "aiohttp.web": {
        "RequestKey",
        "ResponseKey",
        "NotAppKeyWarning",
        "PayloadAccessError",
        "RequestPayloadError",
        "json_bytes_response",
    },
}
NOT_PLANNED = {
    # asyncio-specific internals of aiohttp's reader, and Windows named pipes
    "aiohttp": {"DataQueue", "FlowControlDataQueue", "EofStream", "NamedPipeConnector",
                "set_zlib_backend"},
    "aiohttp.web": {"NamedPipeSite"},
}  # fmt: skip


@pytest.mark.parametrize(
    ("names", "ours", "theirs"),
    [
        (CLIENT, treadle, aiohttp),
        (WEB, web, aiohttp.web),
        (TEST_UTILS, treadle.test_utils, aiohttp.test_utils),
    ],
    ids=["treadle", "treadle.web", "treadle.test_utils"],
)
def test_parity_names_exist(names: list[str], ours: types.ModuleType, theirs: object) -> None:
    assert [name for name in names if not hasattr(theirs, name)] == []  # the list is real
    assert [name for name in names if not hasattr(ours, name)] == []
    assert [name for name in names if name not in ours.__all__] == []


def test_pytest_fixtures_exist() -> None:
    plugin = importlib.import_module("treadle.pytest_plugin")
    aiohttp_plugin = importlib.import_module("aiohttp.pytest_plugin")
    for ours, theirs in FIXTURES.items():
        assert hasattr(plugin, ours), ours
        assert hasattr(aiohttp_plugin, theirs), theirs


@pytest.mark.parametrize(
    ("ours", "theirs"), [(treadle, aiohttp), (web, aiohttp.web)], ids=["treadle", "web"]
)
def test_aiohttp_all_is_covered(ours: types.ModuleType, theirs: types.ModuleType) -> None:
    allowed = NOT_YET[theirs.__name__] | NOT_PLANNED[theirs.__name__]
    missing = {name for name in theirs.__all__ if not hasattr(ours, name)}
    assert missing <= allowed, sorted(missing - allowed)


def test_exception_trees_match_aiohttp() -> None:
    """Every aiohttp base of an exception (that treadle has) is a base in treadle too.

    ``web.HTTPException`` is not a ``Response`` in treadle (it carries the reply's data
    instead; see docs/migrating.md), so Response/StreamResponse are left out.
    """
    skip = {"Response", "StreamResponse"}
    for ours, theirs in ((treadle, aiohttp), (web, aiohttp.web)):
        for name in ours.__all__:
            mine, other = getattr(ours, name), getattr(theirs, name, None)
            if not (inspect.isclass(other) and issubclass(other, BaseException)):
                continue
            wanted = {
                base.__name__
                for base in other.__mro__
                if base.__module__.startswith("aiohttp") and hasattr(ours, base.__name__)
            } - skip
            wanted |= {base.__name__ for base in other.__mro__ if base.__module__ == "builtins"}
            have = {base.__name__ for base in mine.__mro__}
            assert wanted <= have, (name, sorted(wanted - have))


# test_utils imports the client and server classes it builds on without re-exporting
# them (as aiohttp's does): it is checked by test_test_utils_exports_its_own_names.
PUBLIC_MODULES = [
    "treadle",
    "treadle.web",
    "treadle.client",
    "treadle.server",
    "treadle.message",
    "treadle.protocol",
    "treadle.backends",
    "treadle.websocket",
    "treadle.strategies",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_matches_what_the_module_exports(name: str) -> None:
    """``__all__`` names exist, once each, and every public treadle class or function
    a module defines or re-exports is in it (imports used internally are private)."""
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(exported) == len(set(exported)), name
    assert [n for n in exported if not hasattr(module, n)] == []
    unlisted = sorted(
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and attr not in exported
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", "").startswith("treadle")
        and getattr(value, "__module__", "") != name  # helpers defined and used here
    )
    assert unlisted == [], (name, unlisted)


def test_test_utils_exports_its_own_names() -> None:
    for attr in treadle.test_utils.__all__:
        value = getattr(treadle.test_utils, attr)
        assert value.__module__.startswith("treadle"), attr


def test_shared_values_are_one_class_for_both_sides() -> None:
    """``HttpVersion``, ``ETag``, ``ChainMapProxy``: the client's and server's are the same."""
    import treadle.client
    import treadle.server._http_helpers as server_helpers

    assert treadle.HttpVersion11 is treadle.client.HttpVersion11 is server_helpers.HttpVersion11
    assert treadle.ETag is server_helpers.ETag
    assert treadle.ChainMapProxy is server_helpers.ChainMapProxy
    assert treadle.HttpVersion11 == aiohttp.HttpVersion11 == (1, 1)


def test_web_reexports_the_server_objects() -> None:
    import treadle.server

    for attr in web.__all__:
        assert getattr(web, attr) is getattr(treadle.server, attr), attr
    assert treadle.test_utils.make_mocked_request.__module__ == "treadle.server._mocked"
