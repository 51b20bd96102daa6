"""``ClientResponse``: status, headers and the body of one response, as aiohttp has them.

The body stream (``content``) is the Exchange's ``StreamReader``, wrapped in a
:class:`DecodingStreamReader` when the response is content-coded and
``auto_decompress`` is on. The connection goes back to the pool as soon as the body has
been read to its end, or is closed by ``release()``/``close()`` when it was not.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import re
import warnings
from collections.abc import Callable, Generator
from http.cookies import CookieError, SimpleCookie
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from ..backends import get_backend
from ..message import StreamReader, parse_mimetype, supported_encodings
from ._decoding import DecodingStreamReader
from ._exceptions import (
    ClientConnectionError,
    ClientResponseError,
    ContentTypeError,
    RequestInfo,
    ServerTimeoutError,
)
from ._request import HttpVersion, HttpVersion10, HttpVersion11

if TYPE_CHECKING:
    from ..backends import Backend, Timer
    from ..protocol import Response
    from ._interfaces import Exchange

__all__ = ["ClientResponse", "ContentDisposition"]

_JSON_RE: Final = re.compile(r"^application/(?:[\w.+-]+?\+)?json$")
_LINK_PARAM_RE: Final = re.compile(r"^([^\s=]+)\s*=\s*(?:(['\"])(.*?)\2|(\S*))$")
_ESCAPE: Final = "surrogateescape"
_WATCHED_LENGTHS: Final = frozenset({len(b"set-cookie"), len(b"content-encoding")})
_NO_BODY_STATUS: Final = frozenset({204, 304})
_VERSIONS: Final = {b"1.1": HttpVersion11, b"1.0": HttpVersion10}

FallbackCharsetResolver = Callable[["ClientResponse", bytes], str]


def _utf8_fallback(response: ClientResponse, body: bytes) -> str:
    """aiohttp 3.9+'s default: a text body without a charset is read as UTF-8."""
    return "utf-8"


def _is_expected_content_type(response_type: str, expected: str) -> bool:
    if expected == "application/json":
        return _JSON_RE.match(response_type) is not None
    return expected in response_type


class _Noop:
    """What ``release()`` returns: awaitable for code written for old aiohttp."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield


_NOOP: Final = _Noop()


class ContentDisposition:
    """The parsed Content-Disposition of a response: ``type``, ``parameters``, ``filename``."""

    __slots__ = ("filename", "parameters", "type")

    def __init__(self, type: str | None, parameters: dict[str, str], filename: str | None):
        self.type = type
        self.parameters = parameters
        self.filename = filename


class ClientResponse:
    """The response to a request; use it as ``async with`` or call ``release()``."""

    version: HttpVersion | None = None
    status: int = None  # type: ignore[assignment]
    reason: str | None = None
    content: StreamReader = None  # type: ignore[assignment]
    _body: bytes | None = None
    # Per-response state that starts the same for every response: class defaults,
    # so that making a response sets only what differs (one per request).
    _exchange: Exchange | None = None
    _raw: list[tuple[bytes, bytes]] = []  # noqa: RUF012 - replaced, never mutated
    _headers: CIMultiDictProxy[str] | None = None
    _cookies: SimpleCookie | None = None
    _raw_cookie_headers: tuple[str, ...] = ()
    _timer: Timer | None = None
    _closed = True
    _released = False
    _in_context = False
    _history: tuple[ClientResponse, ...] = ()
    # The ClientRequest, when ``request_info`` is to be made from it on first use.
    _request: Any = None

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        request_info: RequestInfo | None,
        traces: list[Any] | None = None,
        history: tuple[ClientResponse, ...] = (),
        auto_decompress: bool = True,
        max_decompressed_size: int | None = None,
        fallback_charset_resolver: FallbackCharsetResolver = _utf8_fallback,
        original_url: URL | None = None,
    ) -> None:
        self.method = method
        self._url = url
        self._real_url = original_url if original_url is not None else url
        self._request_info = request_info
        self._traces = traces if traces is not None else []
        if history:
            self._history = history
        self._auto_decompress = auto_decompress
        self._max_decompressed_size = max_decompressed_size
        self._resolve_charset = fallback_charset_resolver

    # -- starting ---------------------------------------------------------------------

    async def start(
        self, exchange: Exchange, deadline: float | None = None, backend: Backend | None = None
    ) -> ClientResponse:
        """Read the head from ``exchange``; ``deadline`` bounds the rest of the body."""
        self._exchange = exchange
        self._closed = False
        self.apply_head(exchange, await exchange.read_head(), deadline, backend)
        return self

    def apply_head(
        self,
        exchange: Exchange,
        head: Response,
        deadline: float | None = None,
        backend: Backend | None = None,
    ) -> None:
        """Take the response head read from ``exchange`` (``start()`` without the await,
        so the session's await chain is one frame shorter).

        ``deadline`` arms a timer of the response's own over the rest of the body; the
        session passes none (its connections enforce ``ClientTimeout.total`` themselves).
        """
        self._exchange = exchange
        self._closed = False
        self.status = head.status_code
        self.reason = head.reason.decode("latin-1")
        self.version = _VERSIONS.get(head.http_version) or HttpVersion(
            *map(int, head.http_version.split(b"."))
        )
        raw = self._raw = head.headers
        # Only what the client itself needs is looked at here; ``headers`` is decoded
        # on first use (many programs never touch it).
        coding: str | None = None
        watched = _WATCHED_LENGTHS
        for name, value in raw:
            if len(name) in watched:
                lowered = name.lower()
                if lowered == b"set-cookie":
                    self._raw_cookie_headers += (value.decode("utf-8", _ESCAPE),)
                elif lowered == b"content-encoding":
                    coding = value.decode("latin-1")
        content = exchange.content
        if (
            coding
            and self._auto_decompress
            and self.method != "HEAD"
            and self.status not in _NO_BODY_STATUS
            and all(c.strip().lower() in _DECODABLE for c in coding.split(","))
        ):
            self.content = DecodingStreamReader(content, coding, self._max_decompressed_size)
        else:
            self.content = content
        if self.status == 101:
            pass  # switched protocols: the connection is the caller's (ws_connect detaches it)
        elif content.is_eof():  # the whole body is buffered already (or there is none)
            self._body_done()
        else:
            content.on_eof(self._body_done)
            if deadline is not None:
                backend = backend if backend is not None else get_backend()
                timer = self._timer = backend.create_timer(self._total_timeout)
                timer.arm(deadline)

    def _total_timeout(self) -> None:
        """``ClientTimeout.total`` passed while the body was still arriving."""
        exchange = self._exchange
        if exchange is not None:
            exchange.content.set_exception(
                ServerTimeoutError(f"Timeout on reading data from {self._real_url}")
            )
            self._exchange = None
            exchange.close()
        self._stop_timer()

    def _stop_timer(self) -> None:
        timer = self._timer
        if timer is not None:
            self._timer = None
            timer.close()

    def _body_done(self) -> None:
        """The raw body ended: give the connection back to the pool."""
        self._stop_timer()
        exchange = self._exchange
        if exchange is not None:
            self._exchange = None
            self._closed = True
            exchange.release()

    # -- the head ---------------------------------------------------------------------

    @property
    def url(self) -> URL:
        return self._url

    @property
    def real_url(self) -> URL:
        return self._real_url

    @property
    def host(self) -> str:
        return self._url.raw_host or ""

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        headers = self._headers
        if headers is None:
            decoded: CIMultiDict[str] = CIMultiDict(
                [
                    (name.decode("latin-1"), value.decode("utf-8", _ESCAPE))
                    for name, value in self._raw
                ]
            )
            headers = self._headers = CIMultiDictProxy(decoded)
        return headers

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return tuple(self._raw)

    @property
    def request_info(self) -> RequestInfo:
        info = self._request_info
        if info is None:
            request = self._request
            if request is None:
                raise RuntimeError("this response has no request_info")
            info = self._request_info = request.request_info
        return info

    @property
    def history(self) -> tuple[ClientResponse, ...]:
        return self._history

    @property
    def ok(self) -> bool:
        """True when the status is below 400 (not only for 200)."""
        return self.status < 400

    @property
    def cookies(self) -> SimpleCookie:
        """The cookies set by this response (Set-Cookie fields)."""
        if self._cookies is None:
            jar = SimpleCookie()
            for value in self._raw_cookie_headers:
                try:
                    jar.load(value)
                except CookieError:
                    continue
            self._cookies = jar
        return self._cookies

    @property
    def content_type(self) -> str:
        raw = self.headers.get("Content-Type")
        if raw is None:
            return "application/octet-stream"
        return raw.partition(";")[0].strip().lower() or "application/octet-stream"

    @property
    def charset(self) -> str | None:
        raw = self.headers.get("Content-Type")
        if raw is None:
            return None
        return parse_mimetype(raw).parameters.get("charset")

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        return int(value) if value is not None and value.isdigit() else None

    @property
    def content_disposition(self) -> ContentDisposition | None:
        raw = self.headers.get("Content-Disposition")
        if raw is None:
            return None
        from ..message import content_disposition_filename, parse_content_disposition

        disptype, params = parse_content_disposition(raw)
        return ContentDisposition(disptype, params, content_disposition_filename(params))

    @property
    def links(self) -> MultiDictProxy[MultiDictProxy[str | URL]]:
        """The Link header (RFC 8288), keyed by ``rel`` (or by the URL)."""
        links: MultiDict[MultiDictProxy[str | URL]] = MultiDict()
        text = ", ".join(self.headers.getall("Link", ()))
        if not text:
            return MultiDictProxy(links)
        for value in re.split(r",(?=\s*<)", text):
            match = re.match(r"\s*<(.*)>(.*)", value)
            if match is None:
                continue
            target, params = match.groups()
            link: MultiDict[str | URL] = MultiDict()
            for param in params.split(";")[1:]:
                found = _LINK_PARAM_RE.match(param.strip())
                if found is None:
                    continue
                key, _, quoted, unquoted = found.groups()
                link.add(key, unquoted if quoted is None else quoted)
            key = link.get("rel", target)
            link.add("url", self._url.join(URL(target)))
            links.add(str(key), MultiDictProxy(link))
        return MultiDictProxy(links)

    @property
    def connection(self) -> Exchange | None:
        """The exchange holding the connection until the body is read (aiohttp: Connection)."""
        return self._exchange

    @property
    def closed(self) -> bool:
        return self._closed

    # -- the body ---------------------------------------------------------------------

    async def read(self) -> bytes:
        """The whole body (decoded); ``ClientPayloadError`` if it was cut short."""
        if self._body is None:
            if self._released:
                raise ClientConnectionError("Connection closed")
            content = self.content
            if content.is_eof() and content.exception() is None:
                body = content.read_nowait()  # all of it is here: no coroutine to run
            else:
                try:
                    body = await content.read()
                except BaseException:
                    self.close()
                    raise
            self._body = body
            for trace in self._traces:
                await trace.send_response_chunk_received(self.method, self._url, body)
        return self._body

    def get_encoding(self) -> str:
        raw = self.headers.get("Content-Type", "").lower()
        mime = parse_mimetype(raw)
        charset = mime.parameters.get("charset")
        if charset:
            try:
                return codecs.lookup(charset).name
            except LookupError:
                pass
        if mime.type == "application" and mime.subtype in ("json", "rdap"):
            return "utf-8"  # RFC 8259 8.1
        if self._body is None:
            raise RuntimeError("Cannot compute fallback encoding of a not yet read body")
        return self._resolve_charset(self, self._body)

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        body = await self.read()
        return body.decode(encoding or self.get_encoding(), errors)

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: Callable[[str], Any] = json.loads,
        content_type: str | None = "application/json",
    ) -> Any:
        """The body parsed as JSON; ContentTypeError if the Content-Type says otherwise."""
        body = await self.read()
        if content_type:
            actual = self.headers.get("Content-Type", "").lower()
            if not _is_expected_content_type(actual.partition(";")[0].strip(), content_type):
                raise ContentTypeError(
                    self.request_info,
                    self._history,
                    status=self.status,
                    message=f"Attempt to decode JSON with unexpected mimetype: {actual}",
                    headers=self.headers,
                )
        stripped = body.strip()
        if not stripped:
            return None
        return loads(stripped.decode(encoding or self.get_encoding()))

    # -- ending -----------------------------------------------------------------------

    def raise_for_status(self) -> None:
        if self.status >= 400:
            if not self._in_context:
                self.release()
            raise ClientResponseError(
                self.request_info,
                self._history,
                status=self.status,
                message=self.reason or "",
                headers=self.headers,
            )

    def release(self) -> Any:
        """Give the connection back (or close it if the body was not read to its end)."""
        self._released = True
        self._closed = True
        self._stop_timer()
        exchange = self._exchange
        if exchange is not None:
            self._exchange = None
            _end_unread_body(exchange.content)
            exchange.release()
        return _NOOP

    def close(self) -> None:
        """Close the connection, whatever state the body is in."""
        self._released = True
        self._closed = True
        self._stop_timer()
        exchange = self._exchange
        if exchange is not None:
            self._exchange = None
            _end_unread_body(exchange.content)
            exchange.close()

    async def wait_for_close(self) -> None:
        self.release()

    async def __aenter__(self) -> ClientResponse:
        self._in_context = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self._in_context = False
        self.release()

    def __del__(self, _warnings: Any = warnings) -> None:
        if self._exchange is None:
            return
        with contextlib.suppress(Exception):  # the loop may be gone at interpreter exit
            self.close()
        _warnings.warn(f"Unclosed response {self!r}", ResourceWarning, source=self, stacklevel=1)

    def __repr__(self) -> str:
        return f"<ClientResponse({self._real_url}) [{self.status} {self.reason}]>"


def _end_unread_body(content: StreamReader) -> None:
    """Readers of a body whose connection goes away get an error, not a wait forever."""
    if not content.is_eof() and content.exception() is None:
        content.set_exception(ClientConnectionError("Connection closed"))


_DECODABLE: Final = frozenset({*supported_encodings(), "x-gzip", "identity"})
