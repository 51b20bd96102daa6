"""What happens to one ``session.request()``: middlewares, sending, retries, redirects.

Kept apart from ``_session.py`` (options and the public surface) so the per-request path
reads top to bottom. Per-request options travel on the ``ClientRequest`` itself
(:class:`RequestOptions`), so the innermost handler that middlewares call is a bound
method and no closure is built per request.

Timeouts: ``ClientTimeout.total`` is one deadline over connecting, sending, the head
and the body. The connection's own timer enforces it on the exchange (head and body);
a request that runs code of others (traces, middlewares, streamed bodies) also gets a
deadline scope (``backend.fail_at``) around it all, and one whose connection must be
waited for or opened gets a scope around that. A plain request on a kept-alive
connection so costs no timer call at all. ``connect``/``sock_connect``/``sock_read``
are applied by the connector and its exchange.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict
from yarl import URL

from ..message import BytesPayload
from ..protocol import Limits
from ._cookiejar import CookieJar
from ._exceptions import (
    ClientConnectionResetError,
    ClientOSError,
    ConnectionTimeoutError,
    ServerDisconnectedError,
    ServerTimeoutError,
    TooManyRedirects,
)
from ._redirects import (
    REDIRECT_STATUSES,
    apply_redirect_headers,
    plan_redirect,
    redirect_location,
)
from ._request import IDEMPOTENT_METHODS, ClientRequest
from ._response import ClientResponse
from ._timeout import ClientTimeout

if TYPE_CHECKING:
    from ..backends import Backend
    from ._interfaces import Exchange
    from ._session import ClientSession

__all__ = ["ClientHandlerType", "ClientMiddlewareType", "RequestOptions", "send_request"]

ClientHandlerType = Callable[[ClientRequest], Awaitable[ClientResponse]]
ClientMiddlewareType = Callable[[ClientRequest, ClientHandlerType], Awaitable[ClientResponse]]

_STALE_ERRORS: Final = (ServerDisconnectedError, ClientConnectionResetError, ClientOSError)


class RequestOptions:
    """Per-request settings the innermost handler needs (one object per request)."""

    __slots__ = (
        "auto_decompress",
        "backend",
        "connecting",
        "deadline",
        "last_response",
        "limits",
        "max_decompressed_size",
        "read_bufsize",
        "scoped",
        "timeout",
    )

    def __init__(
        self,
        backend: Backend,
        timeout: ClientTimeout,
        deadline: float | None,
        auto_decompress: bool,
        max_decompressed_size: int | None,
        read_bufsize: int,
        limits: Limits,
    ) -> None:
        self.backend = backend
        self.timeout = timeout
        self.deadline = deadline
        self.auto_decompress = auto_decompress
        self.max_decompressed_size = max_decompressed_size
        self.read_bufsize = read_bufsize
        self.limits = limits
        self.connecting = False  # which timeout error a total-deadline expiry becomes
        # Whether a deadline scope covers the whole request (else: only what waits).
        self.scoped = True
        # The newest response made for this request: closed if a middleware fails after
        # getting it, so a buggy middleware cannot leak the connection.
        self.last_response: ClientResponse | None = None


def build_middleware_chain(
    handler: ClientHandlerType, middlewares: Sequence[ClientMiddlewareType]
) -> ClientHandlerType:
    """``handler`` wrapped by ``middlewares``, the first one outermost (aiohttp 3.12)."""
    for middleware in reversed(middlewares):
        handler = _bind(middleware, handler)
    return handler


def _bind(middleware: ClientMiddlewareType, handler: ClientHandlerType) -> ClientHandlerType:
    async def call(request: ClientRequest) -> ClientResponse:
        return await middleware(request, handler)

    return call


def _resendable(request: ClientRequest) -> bool:
    """Whether the body can go out a second time (a stale-connection retry)."""
    body = request.body
    return not body or isinstance(body, BytesPayload)


async def send_request(session: ClientSession, request: ClientRequest) -> ClientResponse:
    """The innermost handler: connection, head and body out, response head in.

    An idempotent request whose *reused* connection turns out to be dead before any
    byte of the response arrived (the server closed it while idle) is retried once on
    another connection, as aiohttp does.
    """
    options = request._options
    if options is None:  # a request a middleware built itself
        options = request._options = session._default_options()
    head = request.build_head()  # ValueError on injection, before any I/O
    connector = session._get_connector()
    key = request.connection_key
    retry = request.method in IDEMPOTENT_METHODS and _resendable(request)
    traces = request.traces
    while True:
        exchange: Exchange | None = None
        if not traces:  # (a reused connection is traced: those go through connect())
            exchange = connector.take_idle_now(
                key, options.timeout, options.read_bufsize, options.deadline
            )
        if exchange is None:
            exchange = await _connect(connector, key, request, options)
        try:
            exchange.for_request(request)  # type: ignore[attr-defined]
            await request.send(exchange, head)
            response = ClientResponse(
                request.method,
                request.url,
                request_info=None,  # made from the request when asked for
                traces=traces,
                auto_decompress=options.auto_decompress,
                max_decompressed_size=options.max_decompressed_size,
                fallback_charset_resolver=session._resolve_charset,
                original_url=request.original_url,
            )
            response._request = request
            options.last_response = response
            response.apply_head(exchange, await exchange.read_head())
            return response
        except _STALE_ERRORS:
            exchange.close()
            if retry and exchange.reused:
                retry = False
                continue
            raise
        except BaseException:
            exchange.close()
            raise


async def _connect(
    connector: Any, key: Any, request: ClientRequest, options: RequestOptions
) -> Exchange:
    """A connection that must be waited for or opened; bounded by the total deadline."""
    options.connecting = True
    connect = connector.connect(
        key,
        traces=request.traces,
        timeout=options.timeout,
        read_bufsize=options.read_bufsize,
        limits=options.limits,
        proxy_auth=request.proxy_auth,
        proxy_headers=request.proxy_headers,
        deadline=options.deadline,
    )
    if options.scoped or options.deadline is None:
        exchange: Exchange = await connect
    else:
        scope = options.backend.fail_at(options.deadline)
        try:
            with scope:
                exchange = await connect
        except TimeoutError as exc:
            if isinstance(exc, ConnectionTimeoutError) or not scope.expired:
                raise
            raise timeout_error(exc, request.url, True) from exc
    options.connecting = False
    return exchange


async def run_request(
    session: ClientSession,
    method: str,
    url: URL,
    *,
    handler: ClientHandlerType,
    request_kw: dict[str, Any],
    cookies: Any,
    options: RequestOptions,
    allow_redirects: bool,
    max_redirects: int,
    requote_redirect_url: bool,
) -> ClientResponse:
    """Send, follow redirects (RFC 9110 15.4), store cookies; ``history`` on the result."""
    history: list[ClientResponse] = []
    traces = request_kw["traces"]
    jar = session._cookie_jar
    while True:
        # (CookieJar's len() first drops expired cookies: its count says "empty" cheaply)
        if jar._count if type(jar) is CookieJar else len(jar):
            request_kw["cookies"] = _merge_cookies(jar.filter_cookies(url), cookies)
        else:
            request_kw["cookies"] = cookies
        request = ClientRequest(method, url, **request_kw)
        request._options = options
        if traces and not history:  # once per request, as aiohttp (not per redirect hop)
            for trace in traces:
                await trace.send_request_start(method, url, request.headers)
        try:
            response = await handler(request)
        except BaseException:
            if options.last_response is not None:
                options.last_response.close()
            raise
        try:
            if response._raw_cookie_headers:
                jar.update_cookies_from_headers(list(response._raw_cookie_headers), response.url)
            if not allow_redirects or response.status not in REDIRECT_STATUSES:
                break
            location = redirect_location(response.headers)
            if location is None:
                break
            for trace in traces:
                await trace.send_request_redirect(method, url, request.headers, response)
            history.append(response)
            if max_redirects and len(history) >= max_redirects:
                raise TooManyRedirects(
                    history[0].request_info, tuple(history), status=response.status
                )
        except BaseException:
            response.close()  # an error or a cancellation: the connection is not kept
            raise
        response.release()
        plan = plan_redirect(
            response.status, location, url, method, requote_redirect_url=requote_redirect_url
        )
        if plan.drop_body or plan.cross_origin:
            headers: CIMultiDict[str] = CIMultiDict(request_kw["headers"] or ())
            apply_redirect_headers(headers, plan)
            request_kw["headers"] = headers
        if plan.drop_body:
            request_kw["data"] = None
            request_kw["chunked"] = None
            request_kw["compress"] = None
            request_kw["expect100"] = False
        if plan.cross_origin:
            request_kw["auth"] = None  # credentials belong to the origin they were given for
        method = plan.method
        url = plan.url
        request_kw["params"] = None
    response._history = tuple(history)
    return response


def _merge_cookies(from_jar: Any, given: Any) -> Any:
    if not given:
        return from_jar
    merged = list(from_jar.items())
    merged.extend(given.items() if hasattr(given, "items") else given)
    return merged


def timeout_error(exc: BaseException, url: URL, connecting: bool) -> BaseException:
    """The aiohttp-shaped error for a ``ClientTimeout.total`` expiry."""
    if connecting:
        return ConnectionTimeoutError(f"Connection timeout to host {url}")
    return ServerTimeoutError(f"Timeout on request to {url}")
