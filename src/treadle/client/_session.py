"""``ClientSession``: aiohttp's client entry point, on whichever backend is running.

A session holds what requests share -- the connector (pool), the cookie jar, default
headers, auth and timeouts -- and turns ``session.get(url, ...)`` into a
``ClientRequest`` sent through ``_session_request``. It may be created outside a running
event loop: the connector is made on first use, on the backend that uses it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict, istr
from yarl import URL

from ..message import DEFAULT_MAX_DECOMPRESSED_SIZE, BytesPayload, JsonPayload
from ..protocol import Limits, LocalProtocolError
from ._auth import BasicAuth
from ._connector import BaseConnector, TCPConnector
from ._cookiejar import AbstractCookieJar, CookieJar
from ._env import EnvSnapshot
from ._exceptions import ClientError, ClientOSError, InvalidUrlClientError
from ._request import HttpVersion, HttpVersion11
from ._request_context import _RequestContextManager as _RequestContextManager  # re-export
from ._request_context import _SessionRequestContextManager
from ._response import ClientResponse, FallbackCharsetResolver, _utf8_fallback
from ._session_request import (
    ClientMiddlewareType,
    RequestOptions,
    build_middleware_chain,
    run_request,
    send_request,
    timeout_error,
)
from ._timeout import DEFAULT_TIMEOUT, ClientTimeout
from ._tracing import Trace, TraceConfig
from ._ws import WSRequestContextManager, ws_connect

if TYPE_CHECKING:
    pass

__all__ = ["ClientSession", "request"]


class _Sentinel:
    def __repr__(self) -> str:
        return "sentinel"


sentinel: Final[Any] = _Sentinel()

_HOST: Final = istr("Host")
# Bodies sent from memory: their writes are bounded by the connection's own deadline.
_IN_MEMORY: Final = (bytes, bytearray, str, BytesPayload)


def _to_timeout(value: Any, default: ClientTimeout) -> ClientTimeout:
    if value is sentinel:
        return default
    if value is None:
        return ClientTimeout()
    if isinstance(value, ClientTimeout):
        return value
    if isinstance(value, int | float):
        return ClientTimeout(total=value)  # aiohttp 3.x still accepts a number
    raise TypeError(f"timeout must be a ClientTimeout or a number, got {value!r}")


class ClientSession:
    """A set of requests sharing a connection pool, cookies and defaults.

    Use it as ``async with ClientSession() as session:`` or call ``await close()``.
    """

    def __init__(
        self,
        base_url: str | URL | None = None,
        *,
        connector: BaseConnector | None = None,
        loop: Any = None,
        cookies: Any = None,
        headers: Any = None,
        proxy: str | URL | None = None,
        proxy_auth: Any = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: Any = None,
        json_serialize: Callable[[Any], str] = json.dumps,
        json_serialize_bytes: Callable[[Any], bytes] | None = None,
        request_class: Any = None,
        response_class: Any = None,
        ws_response_class: Any = None,
        version: HttpVersion = HttpVersion11,
        cookie_jar: AbstractCookieJar | None = None,
        connector_owner: bool = True,
        raise_for_status: bool | Callable[[ClientResponse], Any] = False,
        read_timeout: Any = sentinel,
        conn_timeout: float | None = None,
        timeout: Any = sentinel,
        auto_decompress: bool = True,
        trust_env: bool = False,
        requote_redirect_url: bool = True,
        trace_configs: list[TraceConfig] | None = None,
        read_bufsize: int = 2**16,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        fallback_charset_resolver: FallbackCharsetResolver = _utf8_fallback,
        middlewares: Sequence[ClientMiddlewareType] = (),
        ssl_shutdown_timeout: Any = sentinel,
        max_decompressed_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE,
    ) -> None:
        self._closed = False
        self._connector: BaseConnector | None = connector
        self._connector_owner = connector_owner
        if base_url is None or isinstance(base_url, URL):
            self._base_url: URL | None = base_url
        else:
            self._base_url = URL(base_url)
        if self._base_url is not None and not self._base_url.path.endswith("/"):
            raise ValueError("base_url must end with a slash: a relative URL would drop the rest")
        self._cookie_jar = cookie_jar if cookie_jar is not None else CookieJar()
        if cookies:
            self._cookie_jar.update_cookies(cookies)
        self._default_headers: CIMultiDict[str] = CIMultiDict(headers or ())
        self._skip_auto_headers = frozenset(skip_auto_headers or ())
        self._default_auth = auth
        self._default_proxy = URL(proxy) if isinstance(proxy, str) else proxy
        self._default_proxy_auth = proxy_auth
        self._json_serialize = json_serialize
        self._json_serialize_bytes = json_serialize_bytes  # aiohttp 3.13: wins if set
        self._version = version
        self._raise_for_status = raise_for_status
        timeout_value = _to_timeout(timeout, DEFAULT_TIMEOUT)
        if read_timeout is not sentinel or conn_timeout is not None:
            warnings.warn(
                "read_timeout and conn_timeout are deprecated, use timeout=ClientTimeout(...)",
                DeprecationWarning,
                stacklevel=2,
            )
            if read_timeout is not sentinel:
                timeout_value = dataclasses.replace(timeout_value, sock_read=read_timeout)
            if conn_timeout is not None:
                timeout_value = dataclasses.replace(timeout_value, connect=conn_timeout)
        self._timeout = timeout_value
        self._auto_decompress = auto_decompress
        self._max_decompressed_size = max_decompressed_size
        self._trust_env = trust_env
        self._env: EnvSnapshot | None = None  # read on the first request (trust_env)
        self._requote_redirect_url = requote_redirect_url
        self._trace_configs = list(trace_configs or ())
        for trace_config in self._trace_configs:
            trace_config.freeze()
        self._read_bufsize = read_bufsize
        self._limits = Limits(
            max_line_size=max_line_size, max_field_size=max_field_size, max_headers=max_headers
        )
        self._resolve_charset = fallback_charset_resolver
        self._middlewares = tuple(middlewares)
        # send_request bound to this session: a middleware-free request has no extra frame
        self._send = functools.partial(send_request, self)
        self._handler = build_middleware_chain(self._send, self._middlewares)

    # -- properties -------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed or (self._connector is not None and self._connector.closed)

    @property
    def connector(self) -> BaseConnector | None:
        return self._connector

    @property
    def connector_owner(self) -> bool:
        return self._connector_owner

    @property
    def cookie_jar(self) -> AbstractCookieJar:
        return self._cookie_jar

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._default_headers

    @property
    def skip_auto_headers(self) -> frozenset[str]:
        return self._skip_auto_headers

    @property
    def auth(self) -> Any:
        return self._default_auth

    @property
    def timeout(self) -> ClientTimeout:
        return self._timeout

    @property
    def version(self) -> HttpVersion:
        return self._version

    @property
    def json_serialize(self) -> Callable[[Any], str]:
        return self._json_serialize

    @property
    def raise_for_status(self) -> bool | Callable[[ClientResponse], Any]:
        return self._raise_for_status

    @property
    def auto_decompress(self) -> bool:
        return self._auto_decompress

    @property
    def trust_env(self) -> bool:
        return self._trust_env

    @property
    def requote_redirect_url(self) -> bool:
        return self._requote_redirect_url

    @property
    def trace_configs(self) -> list[TraceConfig]:
        return self._trace_configs

    @property
    def middlewares(self) -> tuple[ClientMiddlewareType, ...]:
        return self._middlewares

    def _default_options(self) -> RequestOptions:
        """Settings for a request that did not come through ``_request`` (a middleware
        may build and send its own ``ClientRequest``)."""
        backend = self._get_connector().backend
        total = self._timeout.total
        return RequestOptions(
            backend,
            self._timeout,
            backend.current_time() + total if total else None,
            self._auto_decompress,
            self._max_decompressed_size,
            self._read_bufsize,
            self._limits,
        )

    def _get_connector(self) -> BaseConnector:
        connector = self._connector
        if connector is None:
            if self._closed:
                raise RuntimeError("Session is closed")
            connector = self._connector = TCPConnector()
        return connector

    # -- requests ---------------------------------------------------------------------

    def _build_url(self, str_or_url: str | URL) -> URL:
        url = URL(str_or_url) if isinstance(str_or_url, str) else str_or_url
        if self._base_url is None or url.is_absolute():
            return url
        return self._base_url.join(url)

    def request(self, method: str, url: str | URL, **kwargs: Any) -> _RequestContextManager:
        """Perform a request: ``async with session.request("GET", url) as resp``."""
        return _RequestContextManager(self._request(method, url, **kwargs))

    def get(
        self, url: str | URL, *, allow_redirects: bool = True, **kwargs: Any
    ) -> _RequestContextManager:
        return _RequestContextManager(
            self._request("GET", url, allow_redirects=allow_redirects, **kwargs)
        )

    def options(
        self, url: str | URL, *, allow_redirects: bool = True, **kwargs: Any
    ) -> _RequestContextManager:
        return _RequestContextManager(
            self._request("OPTIONS", url, allow_redirects=allow_redirects, **kwargs)
        )

    def head(
        self, url: str | URL, *, allow_redirects: bool = False, **kwargs: Any
    ) -> _RequestContextManager:
        return _RequestContextManager(
            self._request("HEAD", url, allow_redirects=allow_redirects, **kwargs)
        )

    def post(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("POST", url, data=data, **kwargs))

    def put(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("PUT", url, data=data, **kwargs))

    def patch(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("PATCH", url, data=data, **kwargs))

    def delete(self, url: str | URL, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("DELETE", url, **kwargs))

    def ws_connect(self, url: str | URL, **kwargs: Any) -> WSRequestContextManager:
        """Open a WebSocket: ``async with session.ws_connect(url) as ws`` (see ``_ws.py``).

        Keywords as aiohttp's: ``method, protocols, timeout (ClientWSTimeout),
        receive_timeout, autoclose, autoping, heartbeat, auth, origin, params, headers,
        proxy, proxy_auth, ssl, server_hostname, proxy_headers, compress, max_msg_size``,
        and treadle's ``client_notakeover`` (offer ``client_no_context_takeover``).
        """
        return WSRequestContextManager(ws_connect(self, url, **kwargs))

    async def _request(
        self,
        method: str,
        str_or_url: str | URL,
        *,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        cookies: Any = None,
        headers: Any = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: Any = None,
        allow_redirects: bool = True,
        max_redirects: int = 10,
        compress: str | bool | None = None,
        chunked: bool | None = None,
        expect100: bool = False,
        raise_for_status: Any = None,
        read_until_eof: bool = True,
        proxy: str | URL | None = None,
        proxy_auth: Any = None,
        timeout: Any = sentinel,
        ssl: Any = True,
        server_hostname: str | None = None,
        proxy_headers: Any = None,
        trace_request_ctx: Any = None,
        read_bufsize: int | None = None,
        auto_decompress: bool | None = None,
        max_line_size: int | None = None,
        max_field_size: int | None = None,
        max_headers: int | None = None,
        middlewares: Sequence[ClientMiddlewareType] | None = None,
        max_decompressed_size: Any = sentinel,
        verify_ssl: bool | None = None,
        fingerprint: bytes | None = None,
        ssl_context: Any = None,
    ) -> ClientResponse:
        if self.closed:
            raise RuntimeError("Session is closed")
        if data is not None and json is not None:
            raise ValueError("data and json parameters can not be used at the same time")
        if json is not None:
            if self._json_serialize_bytes is not None:
                data = BytesPayload(
                    self._json_serialize_bytes(json), content_type="application/json"
                )
            else:
                data = JsonPayload(json, dumps=self._json_serialize)
        method = method.upper()  # ClientRequest checks that it is a token
        try:
            url = self._build_url(str_or_url)
        except ValueError as exc:
            raise InvalidUrlClientError(str_or_url) from exc
        if ssl is None or verify_ssl is False:
            ssl = False
        elif ssl_context is not None:
            ssl = ssl_context
        elif fingerprint is not None:
            from ..backends import Fingerprint

            ssl = Fingerprint(fingerprint)

        # headers: the session's defaults, each name overridden by the request's
        if headers:
            merged: CIMultiDict[str] = CIMultiDict(self._default_headers)
            seen: set[str] = set()
            items = headers.items() if isinstance(headers, Mapping) else headers
            for name, value in items:
                lowered = name.lower()
                if lowered in seen:
                    merged.add(name, value)
                else:
                    seen.add(lowered)
                    merged[name] = value
            all_headers: Any = merged
        else:
            all_headers = self._default_headers or None
        skip = self._skip_auto_headers
        if skip_auto_headers is not None:
            skip = skip | frozenset(skip_auto_headers)

        url_has_credentials = bool(url.raw_user or url.raw_password)
        if auth is not None and url_has_credentials:
            raise ValueError("Cannot combine AUTH argument with credentials encoded in URL")
        if auth is None and not url_has_credentials and self._default_auth is not None:
            # the session's credentials go to its base_url's origin only (aiohttp 3.x)
            base = self._base_url
            if base is None or base.origin() == url.origin():
                auth = self._default_auth
        if auth is not None and all_headers and "Authorization" in all_headers:
            raise ValueError(
                "Cannot combine AUTHORIZATION header with AUTH argument or credentials "
                "encoded in URL"
            )

        if proxy is None:
            proxy = self._default_proxy
            if proxy_auth is None:
                proxy_auth = self._default_proxy_auth
        proxy_url = URL(proxy) if isinstance(proxy, str) else proxy
        if proxy_url is not None and proxy_auth is None and proxy_url.raw_user:
            proxy_auth = BasicAuth.from_url(proxy_url)
            proxy_url = proxy_url.with_user(None)
        connector = self._get_connector()
        backend = connector._backend or connector.backend
        if self._trust_env:
            # aiohttp's trust_env: HTTP(S)_PROXY/NO_PROXY and .netrc credentials, read
            # once per session in a worker thread (file I/O stays off the event loop)
            env = self._env
            if env is None:
                env = self._env = await backend.run_in_thread(EnvSnapshot)
            if proxy_url is None:
                info = env.proxy_for(url)
                if info is not None:
                    proxy_url = info.proxy
                    proxy_auth = proxy_auth if proxy_auth is not None else info.proxy_auth
            if auth is None and not url.raw_user and url.raw_host:
                auth = env.auth_for(url.raw_host)

        timeout_value = _to_timeout(timeout, self._timeout)
        total = timeout_value.total
        options = RequestOptions(
            backend,
            timeout_value,
            backend.current_time() + total if total else None,
            self._auto_decompress if auto_decompress is None else auto_decompress,
            self._max_decompressed_size
            if max_decompressed_size is sentinel
            else max_decompressed_size,
            self._read_bufsize if read_bufsize is None else read_bufsize,
            self._limits,
        )
        if max_line_size or max_field_size or max_headers:
            options.limits = dataclasses.replace(
                self._limits,
                max_line_size=max_line_size or self._limits.max_line_size,
                max_field_size=max_field_size or self._limits.max_field_size,
                max_headers=max_headers or self._limits.max_headers,
            )
        traces = (
            [
                Trace(self, config, config.trace_config_ctx(trace_request_ctx=trace_request_ctx))
                for config in self._trace_configs
            ]
            if self._trace_configs
            else []
        )
        request_kw: dict[str, Any] = {
            "params": params,
            "headers": all_headers,
            "skip_auto_headers": skip,
            "data": data,
            "auth": auth,
            "version": self._version,
            "compress": compress,
            "chunked": chunked,
            "expect100": expect100,
            "proxy": proxy_url,
            "proxy_auth": proxy_auth,
            "proxy_headers": proxy_headers,
            "ssl": ssl,
            "server_hostname": server_hostname,
            "traces": traces,
        }
        handler = self._handler
        if middlewares is not None:
            handler = build_middleware_chain(self._send, middlewares)
        if not traces and handler is self._send and (data is None or isinstance(data, _IN_MEMORY)):
            # Nothing here awaits code that is not ours, and every wait of ours is bounded
            # by ClientTimeout.total without a deadline scope: the connection's timer
            # covers the head and the body, ``send_request`` scopes a connect that waits.
            options.scoped = False
            try:
                response = await run_request(
                    self,
                    method,
                    url,
                    handler=handler,
                    request_kw=request_kw,
                    cookies=cookies,
                    options=options,
                    allow_redirects=allow_redirects,
                    max_redirects=max_redirects,
                    requote_redirect_url=self._requote_redirect_url,
                )
            except ClientError:
                raise
            except OSError as exc:
                raise ClientOSError(*exc.args) from exc
            except LocalProtocolError as exc:
                raise _unsendable(url, exc) from exc
            if raise_for_status is None and not self._raise_for_status:
                return response  # nothing to check, no traces: no await
            return await self._check_response(response, raise_for_status, traces, method, url)
        try:
            with backend.fail_at(options.deadline) as scope:
                response = await run_request(
                    self,
                    method,
                    url,
                    handler=handler,
                    request_kw=request_kw,
                    cookies=cookies,
                    options=options,
                    allow_redirects=allow_redirects,
                    max_redirects=max_redirects,
                    requote_redirect_url=self._requote_redirect_url,
                )
        except TimeoutError as exc:
            if not scope.expired:
                await _trace_exception(traces, method, url, exc)
                raise
            error = timeout_error(exc, url, options.connecting)
            await _trace_exception(traces, method, url, error)
            raise error from exc
        except ClientError as exc:
            await _trace_exception(traces, method, url, exc)
            raise
        except OSError as exc:
            error = ClientOSError(*exc.args)
            await _trace_exception(traces, method, url, error)
            raise error from exc
        except LocalProtocolError as exc:
            value_error = _unsendable(url, exc)
            await _trace_exception(traces, method, url, value_error)
            raise value_error from exc
        except BaseException as exc:
            await _trace_exception(traces, method, url, exc)
            raise
        return await self._check_response(response, raise_for_status, traces, method, url)

    async def _check_response(
        self,
        response: ClientResponse,
        raise_for_status: Any,
        traces: list[Trace],
        method: str,
        url: URL,
    ) -> ClientResponse:
        """``raise_for_status`` and the request-end traces (the response is released if
        either fails: the caller never gets it)."""
        check = self._raise_for_status if raise_for_status is None else raise_for_status
        if not check and not traces:
            return response
        try:
            if check is True:
                response.raise_for_status()
            elif check:
                await check(response)
            for trace in traces:
                await trace.send_request_end(method, url, response.request_info.headers, response)
        except BaseException:
            response.release()  # the caller never gets it: nobody else would
            raise
        return response

    # -- closing ----------------------------------------------------------------------

    async def close(self) -> None:
        """Close the connector if the session owns it (idempotent)."""
        if self._closed:
            return
        self._closed = True
        connector = self._connector
        if connector is not None and self._connector_owner:
            await connector.close()
        self._connector = None

    def detach(self) -> None:
        """Forget the connector without closing it."""
        self._connector = None

    def __enter__(self) -> None:
        raise TypeError("Use async with instead")

    def __exit__(self, *exc: object) -> None:  # pragma: no cover - __enter__ raises
        pass

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __del__(self, _warnings: Any = warnings) -> None:
        if not self._closed and self._connector is not None and not self._connector.closed:
            _warnings.warn(
                f"Unclosed client session {self!r}", ResourceWarning, source=self, stacklevel=1
            )


def _unsendable(url: URL, exc: LocalProtocolError) -> ValueError:
    """A request HTTP/1.1 cannot carry: framing headers given by the caller that are
    invalid or contradict the body. The connection was closed, not pooled."""
    return ValueError(f"Cannot send the request to {url}: {exc}")


async def _trace_exception(traces: list[Trace], method: str, url: URL, exc: BaseException) -> None:
    for trace in traces:
        await trace.send_request_exception(method, url, CIMultiDict(), exc)


_SESSION_ONLY: Final = frozenset(
    {
        "cookie_jar",
        "trace_configs",
        "json_serialize",
        "json_serialize_bytes",
        "trust_env",
        "max_line_size",
        "max_field_size",
        "max_headers",
        "connector_owner",
        "loop",
    }
)


def request(
    method: str,
    url: str | URL,
    *,
    connector: BaseConnector | None = None,
    version: HttpVersion = HttpVersion11,
    **kwargs: Any,
) -> _SessionRequestContextManager:
    """A one-shot request: ``async with treadle.request("GET", url) as resp:``.

    Takes the keywords of ``session.request()`` plus the session-only options in
    ``_SESSION_ONLY``; a connector passed in is left open unless ``connector_owner``.
    """
    session_kw = {key: kwargs.pop(key) for key in list(kwargs) if key in _SESSION_ONLY}
    session_kw.setdefault("connector_owner", connector is None)
    session = ClientSession(connector=connector, version=version, **session_kw)
    return _SessionRequestContextManager(session._request(method, url, **kwargs), session)
