"""``ClientRequest``: one outgoing request, built as aiohttp builds it, sent on an Exchange.

The constructor settles everything that does not need a connection: the URL (``params``
merged, fragment dropped), the default headers (Host, Accept, Accept-Encoding,
User-Agent) minus ``skip_auto_headers``, cookies, Authorization, the body payload and
its framing (Content-Length when the size is known, else chunked). Bad input -- a method
that is not a token, a URL or header that would smuggle a line break -- raises
``ValueError`` before anything reaches a socket.
"""

from __future__ import annotations

import base64
import re
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from http.cookies import Morsel, SimpleCookie
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict, CIMultiDictProxy, istr
from yarl import URL

from ..backends import get_backend
from ..message import (
    PAYLOAD_REGISTRY,
    ContentEncoder,
    FormData,
    IOBasePayload,
    MultipartWriter,
    Payload,
    PayloadLookupError,
    accepted_encodings,
)
from ..message._values import HttpVersion, HttpVersion10, HttpVersion11
from ..protocol import Request
from ._exceptions import InvalidUrlClientError, NonHttpUrlClientError, RequestInfo
from ._interfaces import ConnectionKey

if TYPE_CHECKING:
    from ._interfaces import Exchange

__all__ = ["ClientRequest", "HttpVersion", "HttpVersion10", "HttpVersion11", "RequestInfo"]


_VERSION_BYTES: Final = {HttpVersion10: b"1.0", HttpVersion11: b"1.1"}

try:
    from importlib.metadata import version as _dist_version

    _TREADLE_VERSION = _dist_version("treadle")
except Exception:  # pragma: no cover - running from a tree that is not installed
    _TREADLE_VERSION = "0"

SERVER_SOFTWARE: Final = (
    f"Python/{sys.version_info[0]}.{sys.version_info[1]} treadle/{_TREADLE_VERSION}"
)

HOST: Final = istr("Host")
ACCEPT: Final = istr("Accept")
ACCEPT_ENCODING: Final = istr("Accept-Encoding")
USER_AGENT: Final = istr("User-Agent")
AUTHORIZATION: Final = istr("Authorization")
COOKIE: Final = istr("Cookie")
CONTENT_LENGTH: Final = istr("Content-Length")
CONTENT_TYPE: Final = istr("Content-Type")
CONTENT_ENCODING: Final = istr("Content-Encoding")
TRANSFER_ENCODING: Final = istr("Transfer-Encoding")
EXPECT: Final = istr("Expect")
CONNECTION: Final = istr("Connection")
PROXY_AUTHORIZATION: Final = istr("Proxy-Authorization")

# RFC 9110 9.2.1/9.2.2: methods whose requests normally have no body, and the idempotent
# ones (a stale pooled connection may be retried for those).
GET_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
POST_METHODS: Final = frozenset({"PATCH", "POST", "PUT"})
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})

_DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_SECURE: Final = frozenset({"https", "wss"})
# RFC 9110 5.6.2: a method is a token.
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# What may appear in a request target on the wire (visible ASCII, RFC 9112 3.2).
_BAD_TARGET: Final = re.compile(r"[^\x21-\x7e]")
_BAD_VALUE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

_DEFAULT_HEADERS: Final = (
    (ACCEPT, "*/*"),
    (ACCEPT_ENCODING, accepted_encodings()),
    (USER_AGENT, SERVER_SOFTWARE),
)


_NO_SKIP: Final[frozenset[str]] = frozenset()
_CHECKED_METHODS: Final = {
    name: name
    for name in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
}
_connection_keys: dict[tuple[Any, ...], ConnectionKey] = {}
_CONNECTION_KEYS_MAX = 1024


def check_method(method: str) -> str:
    """The method, upper-cased; ``ValueError`` unless it is an RFC 9110 token."""
    checked = _CHECKED_METHODS.get(method)
    if checked is not None:
        return checked
    if not _TOKEN.fullmatch(method):
        raise ValueError(f"Method cannot contain non-token characters {method!r}")
    return method.upper()


def check_url(url: URL) -> None:
    """Refuse URLs that cannot be requested: no http(s)/ws(s) scheme, no host."""
    if url.scheme not in _DEFAULT_PORTS:
        if not url.scheme:  # a relative URL is not a URL to request at all (as aiohttp)
            raise InvalidUrlClientError(url)
        raise NonHttpUrlClientError(url)
    if not url.raw_host:
        raise InvalidUrlClientError(url)


def basic_auth_header(login: str, password: str, encoding: str = "latin1") -> str:
    """``Basic <base64>`` for credentials taken from a URL (RFC 7617)."""
    token = base64.b64encode(f"{login}:{password}".encode(encoding)).decode("ascii")
    return f"Basic {token}"


# Checked and encoded header fields: most requests repeat most fields (the defaults, a
# session's headers), so a hit skips the checks. Emptied when full: a value that
# changes per request cannot grow it without bound.
_encoded_fields: dict[tuple[str, str], tuple[bytes, bytes]] = {}
_ENCODED_FIELDS_MAX = 1024


def _encode_header(field: tuple[str, str]) -> tuple[bytes, bytes]:
    encoded = _encoded_fields.get(field)
    if encoded is not None:
        return encoded
    name, value = field
    if not _TOKEN.fullmatch(name):
        raise ValueError(f"invalid header name {name!r}")
    if _BAD_VALUE.search(value):
        raise ValueError(f"line break or control character in header {name!r}: {value!r}")
    encoded = name.encode("ascii"), value.encode("utf-8")
    if len(_encoded_fields) >= _ENCODED_FIELDS_MAX:
        _encoded_fields.clear()
    _encoded_fields[field] = encoded
    return encoded


# Whole header blocks encoded, keyed by their (name, value) pairs: a session sends the
# same block (its defaults and Host) on most requests. Bounded like the fields above.
_encoded_blocks: dict[tuple[tuple[str, str], ...], tuple[tuple[bytes, bytes], ...]] = {}
_ENCODED_BLOCKS_MAX = 256


def _encode_block(fields: tuple[tuple[str, str], ...]) -> tuple[tuple[bytes, bytes], ...]:
    block = tuple(map(_encode_header, fields))
    if len(_encoded_blocks) >= _ENCODED_BLOCKS_MAX:
        _encoded_blocks.clear()
    _encoded_blocks[fields] = block
    return block


class _CompressingWriter:
    """A PayloadWriter that content-codes (``compress=``) what it passes on."""

    __slots__ = ("_encoder", "_write")

    def __init__(self, write: Any, encoder: ContentEncoder) -> None:
        self._write = write
        self._encoder = encoder

    async def write(self, chunk: bytes) -> None:
        out = self._encoder.compress(chunk)
        if out:
            await self._write(out)

    async def flush(self) -> None:
        out = self._encoder.flush()
        if out:
            await self._write(out)


class _TracingWriter:
    """A PayloadWriter that reports each chunk to the traces (on_request_chunk_sent)."""

    __slots__ = ("_request", "_write")

    def __init__(self, write: Any, request: ClientRequest) -> None:
        self._write = write
        self._request = request

    async def write(self, chunk: bytes) -> None:
        await self._write(chunk)
        request = self._request
        for trace in request.traces:
            await trace.send_request_chunk_sent(request.method, request.url, chunk)


class ClientRequest:
    """A request: ``method``, ``url``, ``headers`` (a ``CIMultiDict``), ``body``.

    Client middlewares receive it and may change ``headers`` or ``body`` before calling
    the next handler (aiohttp 3.12's ``ClientRequest`` seen by middlewares).
    """

    # The session's per-request settings (``_session_request.RequestOptions``).
    _options: Any = None

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        params: Any = None,
        headers: Any = None,
        skip_auto_headers: Iterable[str] | None = None,
        data: Any = None,
        cookies: Any = None,
        auth: Any = None,
        version: HttpVersion | str = HttpVersion11,
        compress: str | bool | None = None,
        chunked: bool | None = None,
        expect100: bool = False,
        proxy: URL | None = None,
        proxy_auth: Any = None,
        proxy_headers: Any = None,
        ssl: Any = True,
        server_hostname: str | None = None,
        traces: list[Any] | None = None,
    ) -> None:
        self.method = check_method(method)
        if params:
            url = url.extend_query(params)
        check_url(url)
        self.original_url = url
        self.url = url.with_fragment(None) if url.raw_fragment else url
        self.version = _parse_version(version)
        self.chunked = chunked
        self.compress: str | None = None
        self.proxy = proxy
        self.proxy_auth = proxy_auth
        self.proxy_headers: CIMultiDict[str] | None = None
        if proxy_headers is not None:
            self.proxy_headers = CIMultiDict(proxy_headers)
            for field in self.proxy_headers.items():
                _encode_header(field)  # ValueError now, not after the proxy is dialled
        self._ssl = True if ssl is None else ssl
        self.server_hostname = server_hostname
        self.traces: list[Any] = [] if traces is None else traces
        self.auth = auth
        self._body: Payload | None = None
        # lower-cased names: istr compares case-sensitively inside a set
        self._skip = (
            frozenset(name.lower() for name in skip_auto_headers) if skip_auto_headers else _NO_SKIP
        )
        self._expect100 = False

        self.headers: CIMultiDict[str] = self._build_headers(headers)
        if cookies:
            self.update_cookies(cookies)
        if auth is None and (url.raw_user or url.raw_password):
            self.headers[AUTHORIZATION] = basic_auth_header(url.user or "", url.password or "")
        elif auth is not None:
            self.update_auth(auth)
        if proxy is not None and proxy_auth is not None and not self.is_ssl():
            # RFC 9110 11.7.2: to a forward proxy, credentials go on each request (an
            # https request carries them on its CONNECT instead).
            self.headers[PROXY_AUTHORIZATION] = proxy_auth.encode()
        if data is not None and compress:
            self._set_compress(compress)
        self.update_body_from_data(data)
        if data is not None or self.method not in GET_METHODS:
            self._update_transfer_encoding()
        # (the default fields never hold an Expect: only given headers may)
        if expect100 or (headers and self.headers.get(EXPECT, "").lower() == "100-continue"):
            self.headers[EXPECT] = "100-continue"
            self._expect100 = True

    # -- building ---------------------------------------------------------------------

    def _build_headers(self, headers: Any) -> CIMultiDict[str]:
        host = self.url.host_port_subcomponent
        assert host is not None  # check_url() refused host-less URLs
        skip = self._skip
        if not headers and not skip:  # the common case, in one call
            return CIMultiDict(((HOST, host), *_DEFAULT_HEADERS))
        result: CIMultiDict[str] = CIMultiDict()
        result[HOST] = host
        if headers:
            items = headers.items() if isinstance(headers, Mapping) else headers
            for name, value in items:
                if name.lower() == "host":
                    result[name] = value
                else:
                    result.add(name, value)
        for name, value in _DEFAULT_HEADERS:
            if name not in result and name.lower() not in skip:
                result[name] = value
        return result

    def update_cookies(self, cookies: Any) -> None:
        """Add ``cookies`` (a mapping, pairs or a ``BaseCookie``) to the Cookie header."""
        jar: SimpleCookie = SimpleCookie()
        existing = self.headers.get(COOKIE)
        if existing:
            jar.load(existing)
            del self.headers[COOKIE]
        items = cookies.items() if isinstance(cookies, Mapping) else cookies
        for name, value in items:
            if isinstance(value, Morsel):
                morsel: Morsel[str] = Morsel()
                morsel.set(value.key, value.value, value.coded_value)
                jar[name] = morsel
            else:
                jar[name] = value
        text = jar.output(header="", sep=";").strip()
        if text:
            self.headers[COOKIE] = text

    def update_auth(self, auth: Any) -> None:
        encode = getattr(auth, "encode", None)
        if encode is None:
            raise TypeError("BasicAuth() tuple is required instead")
        self.headers[AUTHORIZATION] = encode()

    def _set_compress(self, compress: str | bool) -> None:
        if self.headers.get(CONTENT_ENCODING):
            raise ValueError("compress can not be set if Content-Encoding header is set")
        coding = compress if isinstance(compress, str) else "deflate"
        ContentEncoder(coding)  # refuses codings this installation cannot produce
        self.compress = coding
        self.headers[CONTENT_ENCODING] = coding
        self.chunked = True  # the coded size is not known in advance

    def update_body_from_data(self, data: Any) -> None:
        """Pick the payload for ``data`` and set Content-Length/Type from it."""
        headers = self.headers
        if data is None:
            self._body = None
            no_body_expected = self.method in GET_METHODS or self.chunked
            if not no_body_expected and CONTENT_LENGTH not in headers:
                headers[CONTENT_LENGTH] = "0"
            return
        if isinstance(data, FormData):
            data = data()
        try:
            body = PAYLOAD_REGISTRY.get(data, disposition=None)
        except PayloadLookupError:
            body = FormData(data)()
        self._body = body
        if not self.chunked and CONTENT_LENGTH not in headers:
            size = body.size
            if size is not None:
                headers[CONTENT_LENGTH] = str(size)
            else:
                self.chunked = True
        skip = self._skip
        for name, value in body.headers.items():
            if name not in headers and name.lower() not in skip:
                headers[name] = value

    async def update_body(self, body: Any) -> None:
        """Replace the body (a middleware changing what is sent): framing is redone."""
        headers = self.headers
        headers.popall(CONTENT_LENGTH, None)
        if self.chunked:
            headers.popall(TRANSFER_ENCODING, None)
            self.chunked = None if self.compress is None else True
        self.update_body_from_data(body)
        if body is not None or self.method not in GET_METHODS:
            self._update_transfer_encoding()

    def _update_transfer_encoding(self) -> None:
        headers = self.headers
        te = headers.get(TRANSFER_ENCODING, "").lower()
        if "chunked" in te:
            if self.chunked:
                raise ValueError('chunked can not be set if "Transfer-Encoding: chunked" is set')
            self.chunked = True
        elif self.chunked:
            if CONTENT_LENGTH in headers:
                if self.compress is None:
                    raise ValueError("chunked can not be set if Content-Length header is set")
                del headers[CONTENT_LENGTH]  # the coded body has another length
            if self.version == HttpVersion10:
                raise ValueError("HTTP/1.0 has no chunked transfer coding (RFC 9112 6.1)")
            headers[TRANSFER_ENCODING] = "chunked"

    # -- views ------------------------------------------------------------------------

    @property
    def body(self) -> Payload | bytes:
        return self._body if self._body is not None else b""

    @property
    def host(self) -> str:
        host = self.url.raw_host
        assert host is not None
        return host

    @property
    def port(self) -> int | None:
        return self.url.port

    @property
    def ssl(self) -> Any:
        return self._ssl

    def is_ssl(self) -> bool:
        return self.url.scheme in _SECURE

    @property
    def skip_auto_headers(self) -> CIMultiDict[None]:
        return CIMultiDict((name, None) for name in sorted(self._skip))

    @property
    def connection_key(self) -> ConnectionKey:
        """The pool key; the same object for the same target, so pool lookups compare
        by identity."""
        url = self.url
        proxy = self.proxy
        proxy_hash = None
        if proxy is not None and self.proxy_headers:
            proxy_hash = hash(tuple(self.proxy_headers.items()))
        scheme, host, port = url.scheme, url.raw_host or "", url.port
        fields: tuple[Any, ...] | None = (
            scheme,
            host,
            port,
            self._ssl,
            proxy,
            proxy_hash,
            self.server_hostname,
        )
        try:
            key = _connection_keys.get(fields)  # type: ignore[arg-type]
        except TypeError:  # an unhashable ssl value: no caching
            key, fields = None, None
        if key is None:
            key = ConnectionKey(
                host=host,
                port=port if port is not None else _DEFAULT_PORTS[scheme],
                is_ssl=scheme in _SECURE,
                ssl=self._ssl,
                proxy=str(proxy) if proxy is not None else None,
                proxy_headers_hash=proxy_hash,
                server_hostname=self.server_hostname,
            )
            if fields is not None:
                if len(_connection_keys) >= _CONNECTION_KEYS_MAX:
                    _connection_keys.clear()
                _connection_keys[fields] = key
        return key

    @property
    def request_info(self) -> RequestInfo:
        return RequestInfo(self.url, self.method, CIMultiDictProxy(self.headers), self.original_url)

    # -- sending ----------------------------------------------------------------------

    def _target(self) -> bytes:
        url = self.url
        if self.method == "CONNECT":
            target = f"{url.host_subcomponent}:{url.port}"
        elif self.proxy is not None and not self.is_ssl():
            target = str(url)  # RFC 9112 3.2.2: absolute-form to a forward proxy
        else:
            target = url.raw_path_qs
        if _BAD_TARGET.search(target):
            raise ValueError(f"URL would put a control character on the wire: {target!r}")
        return target.encode("ascii")

    def build_head(self) -> Request:
        """The protocol-core request head; ``ValueError`` on anything that could inject."""
        headers = self.headers
        if self.version == HttpVersion10 and CONNECTION not in headers:
            headers[CONNECTION] = "keep-alive"  # HTTP/1.0 closes unless asked (RFC 9112 9.3)
        if (
            self.method in POST_METHODS
            and CONTENT_TYPE not in headers
            and "content-type" not in self._skip
        ):
            headers[CONTENT_TYPE] = "application/octet-stream"
        fields = tuple(headers.items())
        block = _encoded_blocks.get(fields) or _encode_block(fields)
        return Request(
            self.method.encode("ascii"), self._target(), list(block), _VERSION_BYTES[self.version]
        )

    async def send(self, exchange: Exchange, head: Request | None = None) -> None:
        """Send head and body on ``exchange``; with ``expect100`` the body waits for 100."""
        if head is None:
            head = self.build_head()
        traces = self.traces
        if self._body is None and not traces:
            await exchange.send_bodiless(head)  # head and end in one write
            return
        exchange.send_head(head)
        for trace in traces:
            await trace.send_request_headers(self.method, self.url, self.headers)
        body = self._body
        if body is None:
            await exchange.end_body()
            return
        if self._expect100 and not await exchange.wait_for_100_continue():
            return  # a final response came instead: the body is not sent (RFC 9110 10.1.1)
        if isinstance(body, IOBasePayload | MultipartWriter):
            _read_files_in_threads(body, get_backend().run_in_thread)
        write: Callable[[bytes], Awaitable[None]] = exchange.write
        if traces:
            write = _TracingWriter(write, self).write
        if self.compress is not None:
            writer = _CompressingWriter(write, ContentEncoder(self.compress))
            await body.write(writer)
            await writer.flush()
        else:
            await body.write(_Writer(write))
        await exchange.end_body()

    def __repr__(self) -> str:
        return f"<ClientRequest({self.method} {self.url})>"


class _Writer:
    __slots__ = ("write",)

    def __init__(self, write: Any) -> None:
        self.write = write


def _read_files_in_threads(payload: Payload, run_in_thread: Any) -> None:
    """Blocking file reads of ``payload`` (and of its parts) go to worker threads."""
    if isinstance(payload, MultipartWriter):
        for part, _, _ in payload:
            _read_files_in_threads(part, run_in_thread)
    elif isinstance(payload, IOBasePayload) and payload.run_in_thread is None:
        payload.run_in_thread = run_in_thread  # BytesIOPayload reads inline regardless


def _parse_version(version: HttpVersion | str) -> HttpVersion:
    if version is HttpVersion11:
        return version
    if isinstance(version, str):
        major, _, minor = version.partition(".")
        try:
            version = HttpVersion(int(major), int(minor))
        except ValueError:
            raise ValueError(f"Can not parse http version number: {version}") from None
    if version not in _VERSION_BYTES:
        raise ValueError(f"unsupported HTTP version {version!r}: use 1.0 or 1.1")
    return HttpVersion(*version)
