"""``ws_connect`` and ``ClientWebSocketResponse``: the client side of a WebSocket.

The opening handshake is an ordinary ``GET`` through the session (so cookies, auth,
proxies, TLS, redirects and timeouts all apply), with the headers of the core's
:class:`~treadle.protocol.ClientHandshake`. A ``101`` answer is checked (RFC 6455 4.1:
accept key, subprotocol, extension parameters); then the pooled connection is detached
and handed to a :class:`~treadle.websocket.WebSocketChannel` with the bytes that came
after the ``101``. Its pool slot is freed when the WebSocket's connection ends.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict

from ..protocol import ClientHandshake, HandshakeError, PerMessageDeflate
from ..websocket import WebSocketChannel, WSCloseCode
from ._exceptions import (
    ClientConnectionResetError,
    ServerTimeoutError,
    WSMessageTypeError,
    WSServerHandshakeError,
)
from ._response import ClientResponse

if TYPE_CHECKING:
    from ..backends import Connection
    from ._session import ClientSession

__all__ = ["DEFAULT_WS_CLIENT_TIMEOUT", "ClientWSTimeout", "ClientWebSocketResponse"]


@dataclass(frozen=True)
class ClientWSTimeout:
    """WebSocket timeouts: ``ws_receive`` bounds each ``receive()``, ``ws_close`` how
    long ``close()`` waits for the server's Close (aiohttp's ``ClientWSTimeout``)."""

    ws_receive: float | None = None
    ws_close: float | None = None


DEFAULT_WS_CLIENT_TIMEOUT: Final = ClientWSTimeout(ws_receive=None, ws_close=10.0)
_NO_CLOSE_WAIT: Final = 1e9  # ``ws_close=None``: wait as long as it takes


def _deflate_offer(compress: int, client_notakeover: bool = False) -> PerMessageDeflate | None:
    """aiohttp's offer for ``compress=wbits``: ``client_max_window_bits`` always, and
    ``server_max_window_bits`` below 15 (RFC 7692 7.1.2); ``client_notakeover`` (a
    treadle extension) adds ``client_no_context_takeover`` (7.1.1.2): the client then
    compresses each message on its own, and servers that require it accept the offer."""
    if not compress:
        if client_notakeover:
            raise ValueError("client_notakeover needs compress")
        return None
    if not 9 <= compress <= 15:
        raise ValueError("Compress wbits must between 9 and 15, zlib does not support wbits=8")
    return PerMessageDeflate(
        client_no_context_takeover=client_notakeover,
        client_max_window_bits=0,
        server_max_window_bits=compress if compress < 15 else None,
    )


class ClientWebSocketResponse(WebSocketChannel):
    """An open client WebSocket: aiohttp's ``receive``/``send_*``/``close`` API.

    Made by :meth:`ClientSession.ws_connect`; ``async with`` closes it on exit. It *is*
    the channel (no delegation layer on the per-message path), with aiohttp's client
    errors: ``ClientConnectionResetError`` when sending on a closed connection,
    ``WSMessageTypeError`` from ``receive_str``/``receive_bytes``, ``ServerTimeoutError``
    when a heartbeat goes unanswered.
    """

    def __init__(
        self,
        response: ClientResponse,
        protocol: str | None,
        timeout: ClientWSTimeout,
        *,
        deflate: PerMessageDeflate | None = None,
        max_msg_size: int = 4 * 1024 * 1024,
        autoclose: bool = True,
        autoping: bool = True,
        heartbeat: float | None = None,
    ) -> None:
        super().__init__(
            "client",
            deflate=deflate,
            max_msg_size=max_msg_size,
            autoclose=autoclose,
            autoping=autoping,
            heartbeat=heartbeat,
            receive_timeout=timeout.ws_receive,
            close_timeout=_NO_CLOSE_WAIT if timeout.ws_close is None else timeout.ws_close,
            timeout_error=ServerTimeoutError,
            reset_error=ClientConnectionResetError,
            type_error=WSMessageTypeError,
        )
        self._response = response
        self._protocol = protocol
        self._timeout = timeout
        self._compress = 0
        self._client_notakeover = False
        if deflate is not None:
            self._compress = deflate.server_max_window_bits or 15
            self._client_notakeover = deflate.client_no_context_takeover

    # -- state -------------------------------------------------------------------------

    @property
    def protocol(self) -> str | None:
        """The subprotocol the server chose, if any."""
        return self._protocol

    @property
    def compress(self) -> int:
        """The agreed window bits of permessage-deflate, 0 without compression."""
        return self._compress

    @property
    def client_notakeover(self) -> bool:
        return self._client_notakeover

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """``peername``, ``sockname``, ``ssl_object``... of the connection (as asyncio)."""
        conn = self.connection
        if conn is None:
            return default
        value = {
            "peername": conn.peername,
            "sockname": conn.sockname,
            "ssl_object": conn.ssl_object,
            "socket": conn.socket,
        }.get(name)
        return default if value is None else value

    # -- the end -----------------------------------------------------------------------

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        self._response.close()  # frees the pool slot (the socket is ours)

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes | str = b"", wait: bool = True
    ) -> bool:
        """Send Close and wait (up to ``ClientWSTimeout.ws_close``) for the server's."""
        try:
            return await super().close(code=code, message=message, wait=wait)
        finally:
            if self.closed:
                self._response.close()

    async def __aenter__(self) -> ClientWebSocketResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<ClientWebSocketResponse {self._response.url} {state}>"


class WSRequestContextManager:
    """What ``ws_connect`` returns: await it, or ``async with`` it (closes on exit)."""

    __slots__ = ("_coro", "_ws")

    def __init__(self, coro: Any) -> None:
        self._coro = coro
        self._ws: ClientWebSocketResponse | None = None

    def __await__(self) -> Generator[Any, None, ClientWebSocketResponse]:
        return self._coro.__await__()  # type: ignore[no-any-return]

    async def __aenter__(self) -> ClientWebSocketResponse:
        self._ws = await self._coro
        return self._ws

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if self._ws is not None:
            await self._ws.close()


def _ws_timeout(timeout: Any, receive_timeout: float | None) -> ClientWSTimeout:
    if isinstance(timeout, ClientWSTimeout):
        result = timeout
    elif timeout is None:
        result = DEFAULT_WS_CLIENT_TIMEOUT
    elif isinstance(timeout, int | float):
        result = ClientWSTimeout(ws_close=float(timeout))  # aiohttp < 3.11: the close wait
    else:
        raise TypeError(f"timeout must be a ClientWSTimeout or a number, got {timeout!r}")
    if receive_timeout is not None:
        result = replace(result, ws_receive=receive_timeout)
    return result


async def ws_connect(
    session: ClientSession,
    url: Any,
    *,
    method: str = "GET",
    protocols: Iterable[str] = (),
    timeout: Any = None,
    receive_timeout: float | None = None,
    autoclose: bool = True,
    autoping: bool = True,
    heartbeat: float | None = None,
    auth: Any = None,
    origin: str | None = None,
    params: Any = None,
    headers: Any = None,
    proxy: Any = None,
    proxy_auth: Any = None,
    ssl: Any = True,
    server_hostname: str | None = None,
    proxy_headers: Any = None,
    compress: int = 0,
    max_msg_size: int = 4 * 1024 * 1024,
    client_notakeover: bool = False,
    **request_kw: Any,
) -> ClientWebSocketResponse:
    """Open a WebSocket (see :meth:`ClientSession.ws_connect`)."""
    ws_timeout = _ws_timeout(timeout, receive_timeout)
    offer = _deflate_offer(compress, client_notakeover)
    handshake = ClientHandshake(protocols=tuple(protocols), deflate=offer)
    real_headers: CIMultiDict[str] = CIMultiDict(headers or ())
    for name, value in handshake.request_headers():
        key = name.decode("latin-1")
        if key.lower() in ("upgrade", "connection", "sec-websocket-version"):
            real_headers.setdefault(key, value.decode("latin-1"))
        else:  # key, subprotocols, extensions: ours, whatever was passed
            real_headers[key] = value.decode("latin-1")
    if origin is not None:
        real_headers["Origin"] = origin

    response = await session._request(
        method,
        url,
        params=params,
        headers=real_headers,
        read_until_eof=False,
        auth=auth,
        proxy=proxy,
        proxy_auth=proxy_auth,
        ssl=ssl,
        server_hostname=server_hostname,
        proxy_headers=proxy_headers,
        **request_kw,
    )
    try:
        try:
            protocol, deflate = handshake.validate(response.status, list(response.raw_headers))
        except HandshakeError as exc:
            message = "Invalid response status" if response.status != 101 else str(exc)
            raise WSServerHandshakeError(
                response.request_info,
                response.history,
                message=message,
                status=response.status,
                headers=response.headers,
            ) from None
        exchange = response.connection
        if exchange is None:
            raise WSServerHandshakeError(
                response.request_info,
                response.history,
                message="the connection was released before the upgrade",
                status=response.status,
                headers=response.headers,
            )
        conn: Connection
        conn, data, eof = exchange.detach()
        ws = ClientWebSocketResponse(
            response,
            protocol,
            ws_timeout,
            deflate=deflate,
            max_msg_size=max_msg_size,
            autoclose=autoclose,
            autoping=autoping,
            heartbeat=heartbeat,
        )
        ws.attach(conn, data, eof)
    except BaseException:
        response.close()
        raise
    return ws
