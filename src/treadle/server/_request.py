"""``BaseRequest`` and ``Request``: what a handler reads about the request it answers.

A request wraps the core's ``Request`` event (method, target, raw ``bytes`` header
pairs), the body's ``StreamReader`` and the connection's ``ConnectionInfo``. Everything
derived is computed on first use and kept: most handlers read two or three attributes,
so building ``headers`` (a ``CIMultiDictProxy``), the URL, the query or the cookies up
front would be wasted work on the server's hot path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from ..message import MultipartReader, StreamReader
from ..protocol import Request as RequestEvent
from ._exceptions import HTTPRequestEntityTooLarge
from ._forwarded import parse_cookie_header, parse_forwarded
from ._http_helpers import (
    ChainMapProxy,
    HttpVersion,
    version_from_bytes,
)
from ._interfaces import ConnectionInfo, ResponseWriter
from ._request_body import FileField, read_post
from ._request_headers import HeaderFieldsMixin
from ._state_mapping import LazyStateMapping

if TYPE_CHECKING:
    from ._matchinfo import UrlMappingMatchInfo

__all__ = ["BaseRequest", "FileField", "Request"]

_sentinel: Any = object()


def _decode_headers(raw: list[tuple[bytes, bytes]]) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(
        CIMultiDict([(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw])
    )


def _sockname_host(sockname: Any) -> str:
    """A Host value from the local address: ``[::1]`` for IPv6, the path for Unix."""
    if isinstance(sockname, tuple):
        return f"[{sockname[0]}]" if len(sockname) == 4 else str(sockname[0])
    return "" if sockname is None else str(sockname)


class _TransportInfo:
    """``request.transport``: the ``get_extra_info`` part of an asyncio transport.

    aiohttp handlers reach for ``request.transport.get_extra_info("peername")``; the
    connection may be a trio stream, so only that lookup is offered.
    """

    __slots__ = ("_conn",)

    def __init__(self, conn: ConnectionInfo) -> None:
        self._conn = conn

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        conn = self._conn
        if name == "peername":
            return conn.peername
        if name == "sockname":
            return conn.sockname
        ssl_object = conn.ssl_object
        if name == "ssl_object":
            return ssl_object
        if name == "peercert" and ssl_object is not None:
            return ssl_object.getpeercert()
        if name == "cipher" and ssl_object is not None:
            return ssl_object.cipher()
        return default


class BaseRequest(LazyStateMapping, HeaderFieldsMixin, MutableMapping[str, Any]):
    """An incoming request; also a mapping for per-request state (``request["user"]``)."""

    POST_METHODS: Final = frozenset({"PATCH", "POST", "PUT", "TRACE", "DELETE"})

    __slots__ = (
        "__dict__",
        "_body",
        "_client_max_size",
        "_conn",
        "_headers",
        "_host",
        "_match_info",
        "_message",
        "_method",
        "_payload",
        "_post",
        "_rel_url",
        "_remote",
        "_scheme",
        "_state",
        "_task",
        "_url",
        "_writer",
    )

    def __init__(
        self,
        message: RequestEvent,
        payload: StreamReader,
        conn: ConnectionInfo,
        writer: ResponseWriter,
        task: Any,
        *,
        client_max_size: int = 1024**2,
        state: dict[str, Any] | None = None,
        scheme: str | None = None,
        host: str | None = None,
        remote: str | None = None,
    ) -> None:
        self._message = message
        self._method = message.method.decode("ascii")
        self._payload = payload
        self._conn = conn
        self._writer = writer
        self._task = task
        self._client_max_size = client_max_size
        self._state = state  # made on first use: most requests store nothing
        self._headers: CIMultiDictProxy[str] | None = None
        self._rel_url: URL | None = None
        self._url: URL | None = None
        self._scheme = scheme
        self._host = host
        self._remote = remote
        self._body: bytes | None = None
        self._post: MultiDictProxy[str | bytes | FileField] | None = None
        # Set by the router (``Request``); a slot here so ``Request`` needs no __init__
        # of its own: one constructor frame per request instead of two.
        self._match_info: UrlMappingMatchInfo | None = None

    def clone(
        self,
        *,
        method: str = _sentinel,
        rel_url: str | URL = _sentinel,
        headers: Mapping[str, str] | Any = _sentinel,
        scheme: str = _sentinel,
        host: str = _sentinel,
        remote: str = _sentinel,
        client_max_size: int = _sentinel,
    ) -> BaseRequest:
        """A copy with some attributes replaced (middlewares rewriting a request).

        The body stream is shared, not copied: read it from one of the two only.
        """
        message = self._message
        new_method = message.method if method is _sentinel else method.upper().encode("ascii")
        if rel_url is _sentinel:
            target = message.target
        else:
            url = URL(rel_url)
            if url.absolute:
                raise ValueError("rel_url must be relative, not an absolute URL")
            target = url.raw_path_qs.encode("ascii")
        if headers is _sentinel:
            raw = message.headers
        else:
            raw = [
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in CIMultiDict(headers).items()
            ]
        new = self._make_clone(
            RequestEvent(new_method, target, raw, message.http_version),
            client_max_size=(
                self._client_max_size if client_max_size is _sentinel else client_max_size
            ),
            scheme=self._scheme if scheme is _sentinel else scheme,
            host=self._host if host is _sentinel else host,
            remote=self._remote if remote is _sentinel else remote,
        )
        if method is _sentinel and rel_url is _sentinel and headers is _sentinel:
            new._body = self._body
            new._post = self._post
        return new

    def _make_clone(
        self,
        message: RequestEvent,
        *,
        client_max_size: int,
        scheme: str | None,
        host: str | None,
        remote: str | None,
    ) -> BaseRequest:
        return type(self)(
            message,
            self._payload,
            self._conn,
            self._writer,
            self._task,
            client_max_size=client_max_size,
            state=None if self._state is None else self._state.copy(),
            scheme=scheme,
            host=host,
            remote=remote,
        )

    # -- the connection --------------------------------------------------------------

    @property
    def task(self) -> Any:
        """The task running the handler (what the server cancels on disconnect)."""
        return self._task

    @property
    def protocol(self) -> ConnectionInfo:
        """The connection the request came on (``ConnectionInfo``)."""
        return self._conn

    @property
    def transport(self) -> _TransportInfo | None:
        """An object with ``get_extra_info(name)`` for peername, sockname, ssl_object..."""
        return _TransportInfo(self._conn)

    @property
    def writer(self) -> ResponseWriter:
        """Where the response goes (``_payload_writer`` in aiohttp)."""
        return self._writer

    _payload_writer = writer

    @property
    def client_max_size(self) -> int:
        return self._client_max_size

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return _TransportInfo(self._conn).get_extra_info(name, default)

    # -- the request line ------------------------------------------------------------

    @property
    def message(self) -> RequestEvent:
        """The core's request head event."""
        return self._message

    @property
    def method(self) -> str:
        return self._method

    @property
    def version(self) -> HttpVersion:
        return version_from_bytes(self._message.http_version)

    @property
    def raw_path(self) -> str:
        """The request target as received: still percent-encoded, with the query."""
        return self._message.target.decode("latin-1")

    @property
    def rel_url(self) -> URL:
        """The target as a relative URL (path and query)."""
        rel_url = self._rel_url
        if rel_url is None:
            rel_url = self._parse_target()
        return rel_url

    def _parse_target(self) -> URL:
        target = self._message.target.decode("latin-1")
        try:
            url = URL(target, encoded=True)
        except ValueError:
            url = URL.build(path="/", encoded=True)
        if url.absolute:
            # absolute-form (RFC 9112 3.2.2): the target names scheme and host itself.
            if self._scheme is None:
                self._scheme = url.scheme
            if self._host is None and url.host is not None:
                self._host = url.raw_authority
            url = url.relative()
        self._rel_url = url
        return url

    @property
    def path(self) -> str:
        """The decoded path, ``/a b`` for ``/a%20b``."""
        return self.rel_url.path

    @property
    def path_qs(self) -> str:
        """The decoded path with the query string."""
        return str(self.rel_url)

    @property
    def query(self) -> MultiDictProxy[str]:
        return self.rel_url.query

    @property
    def query_string(self) -> str:
        return self.rel_url.query_string

    @property
    def url(self) -> URL:
        """The absolute URL: scheme and host (Forwarded-aware via ``clone``) + target."""
        url = self._url
        if url is None:
            rel_url = self.rel_url
            url = URL.build(scheme=self.scheme, authority=self.host).join(rel_url)
            self._url = url
        return url

    # -- headers -----------------------------------------------------------------------

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The header fields, names case-insensitive, values decoded as Latin-1."""
        headers = self._headers
        if headers is None:
            headers = self._headers = _decode_headers(self._message.headers)
        return headers

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return tuple(self._message.headers)

    @property
    def keep_alive(self) -> bool:
        """Whether the client asked to keep the connection (RFC 9112 9.3)."""
        connection = self._raw_header(b"connection")
        tokens = {token.strip().lower() for token in connection.split(",")} if connection else set()
        if self._message.http_version == b"1.0":
            return "keep-alive" in tokens
        return "close" not in tokens

    @property
    def host(self) -> str:
        """The ``Host`` header (or the override given to ``clone``/the constructor).

        Like aiohttp 3.12+, without a Host (HTTP/1.0) the local address the request
        came to is used (never a DNS look-up, which would block the loop).
        """
        host = self._host
        if host is not None:
            return host
        if self._rel_url is None:
            self._parse_target()  # an absolute-form target sets the host
            if self._host is not None:
                return self._host
        host = self._raw_header(b"host")
        if host is None:
            host = _sockname_host(self._conn.sockname)
        self._host = host
        return host

    @property
    def scheme(self) -> str:
        """``https`` over TLS, else ``http`` (unless given, e.g. by a proxy middleware)."""
        scheme = self._scheme
        if scheme is None:
            if self._rel_url is None:
                self._parse_target()
                if self._scheme is not None:
                    return self._scheme
            scheme = self._scheme = "https" if self._conn.ssl_object is not None else "http"
        return scheme

    @property
    def secure(self) -> bool:
        return self.scheme == "https"

    @property
    def is_tls(self) -> bool:
        return self._conn.ssl_object is not None

    @property
    def remote(self) -> str | None:
        """The client's address (``peername[0]`` for TCP), or the override given."""
        remote = self._remote
        if remote is not None:
            return remote
        peername = self._conn.peername
        if isinstance(peername, list | tuple):
            return str(peername[0])
        return None if peername is None else str(peername)

    @property
    def forwarded(self) -> tuple[MappingProxyType[str, str], ...]:
        """``Forwarded`` elements (RFC 7239), first proxy first. Not trusted by itself:
        a proxy-aware middleware decides and calls ``clone(scheme=, host=, remote=)``."""
        return parse_forwarded(self.headers.getall("Forwarded", ()))

    @property
    def cookies(self) -> Mapping[str, str]:
        return MappingProxyType(parse_cookie_header(self.headers.getall("Cookie", ())))

    # -- body --------------------------------------------------------------------------

    @property
    def content(self) -> StreamReader:
        """The body as a stream (``read(n)``, ``iter_chunked``...)."""
        return self._payload

    @property
    def body_exists(self) -> bool:
        """Whether the request has a body at all (even if it was read already)."""
        return self._payload.total_bytes > 0 or not self._payload.is_eof()

    @property
    def can_read_body(self) -> bool:
        """Whether unread body bytes remain."""
        return not self._payload.at_eof()

    @property
    def has_body(self) -> bool:
        """Deprecated aiohttp spelling of ``can_read_body``."""
        return not self._payload.at_eof()

    async def release(self) -> None:
        """Read and drop the rest of the body (so the connection can be reused)."""
        while await self._payload.readany():
            pass

    async def read(self) -> bytes:
        """The whole body; ``HTTPRequestEntityTooLarge`` past ``client_max_size``.

        A body cut short (the connection failed) raises instead of returning less.
        """
        body = self._body
        if body is None:
            body = self._body = await self._read_body()
        return body

    async def _read_body(self) -> bytes:
        max_size = self._client_max_size
        declared = self.content_length
        if max_size and declared is not None and declared > max_size:
            self._conn.force_close()  # the 413 ends the connection (the body is not read)
            raise HTTPRequestEntityTooLarge(max_size=max_size, actual_size=declared)
        payload = self._payload
        pieces: list[bytes] = []
        size = 0
        while chunk := await payload.readany():
            pieces.append(chunk)
            size += len(chunk)
            if max_size and size > max_size:
                self._conn.force_close()
                raise HTTPRequestEntityTooLarge(max_size=max_size, actual_size=size)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    async def text(self) -> str:
        """The body decoded with its charset (UTF-8 if none is given)."""
        body = await self.read()
        return body.decode(self.charset or "utf-8")

    async def json(self, *, loads: Any = json.loads) -> Any:
        """The body parsed as JSON; the Content-Type is not checked (aiohttp 3.x)."""
        return loads(await self.text())

    async def multipart(self) -> MultipartReader:
        """A streaming reader of a ``multipart/*`` body, part by part."""
        return MultipartReader(self.headers, self._payload)

    async def post(self) -> MultiDictProxy[str | bytes | FileField]:
        """Form fields of a urlencoded or multipart/form-data body (file fields as
        ``FileField``); bounded by ``client_max_size`` across the whole form (413).

        Other methods than POST/PUT/PATCH/DELETE/TRACE, and other content types, give
        an empty mapping, as in aiohttp.
        """
        post = self._post
        if post is None:
            if self._method not in self.POST_METHODS:
                post = MultiDictProxy(MultiDict())
            else:
                post = await read_post(self)
            self._post = post
        return post

    # (mapping storage and identity: LazyStateMapping)

    def __repr__(self) -> str:
        target = self._message.target.decode("latin-1")
        return f"<{type(self).__name__} {self._method} {target} >"

    def _wants_prepare_hook(self) -> bool:
        """Whether ``_prepare_hook`` has anything to run (checked without awaiting)."""
        return False

    async def _prepare_hook(self, response: Any) -> None:
        """Called by ``StreamResponse.prepare``; a bare request has no app signals."""
        return None


class Request(BaseRequest):
    """A routed request: adds ``match_info``, ``app`` and ``config_dict``."""

    __slots__ = ()

    def _make_clone(
        self,
        message: RequestEvent,
        *,
        client_max_size: int,
        scheme: str | None,
        host: str | None,
        remote: str | None,
    ) -> BaseRequest:
        new = super()._make_clone(
            message, client_max_size=client_max_size, scheme=scheme, host=host, remote=remote
        )
        assert isinstance(new, Request)
        new._match_info = self._match_info
        return new

    @property
    def match_info(self) -> UrlMappingMatchInfo:
        """The route's match: path variables as a dict, plus ``route`` and ``apps``."""
        match_info = self._match_info
        if match_info is None:
            raise RuntimeError("request.match_info is set by the server once it is routed")
        return match_info

    @property
    def app(self) -> Any:
        """The application whose handler (or middleware) is running now."""
        match_info = self._match_info
        return None if match_info is None else match_info.current_app

    @property
    def config_dict(self) -> ChainMapProxy:
        """The state of the current application and its parents, innermost first."""
        match_info = self._match_info
        if match_info is None:
            return ChainMapProxy([])
        apps = match_info.apps
        current = match_info.current_app
        maps: list[Mapping[Any, Any]] = []
        for app in reversed(apps[: apps.index(current) + 1] if current in apps else apps):
            maps.append(app)
        return ChainMapProxy(maps)

    def _wants_prepare_hook(self) -> bool:
        match_info = self._match_info
        if match_info is None:
            return False
        for app in match_info._apps:
            # An Application's signal without its property call; any other app object
            # (tests, mocks) through the public name.
            signal = getattr(app, "_on_response_prepare", _sentinel)
            if signal is _sentinel:
                signal = getattr(app, "on_response_prepare", None)
            if signal:
                return True
        return False

    async def _prepare_hook(self, response: Any) -> None:
        """Send every routed app's ``on_response_prepare`` (outermost first)."""
        match_info = self._match_info
        if match_info is None:
            return
        for app in match_info._apps:
            signal = getattr(app, "on_response_prepare", None)
            if signal:
                await signal.send(self, response)
