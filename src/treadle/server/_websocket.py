"""``WebSocketResponse``: the server side of a WebSocket, with aiohttp's API.

``prepare(request)`` checks the upgrade request with the core's
:class:`~treadle.protocol.ServerHandshake` (RFC 6455 4.2), answers ``101`` through the
request's writer (``switch_protocols``: the HTTP handler lets go of the connection) and
attaches a :class:`~treadle.websocket.WebSocketChannel` to the connection with the bytes
that followed the request. Everything after that -- ``receive``, ``send_*``, ``close``,
heartbeat, autoping -- is the channel's.

A refused handshake raises the HTTP error to answer with (400, 405 with ``Allow``, 426
with ``Sec-WebSocket-Version``), so a handler that lets it propagate answers correctly.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from ..protocol import HandshakeError, ServerHandshake, WSState
from ..websocket import (
    WebSocketChannel,
    WSCloseCode,
    WSMessage,
    WSMsgType,
)
from ._exceptions import HTTPBadRequest, HTTPMethodNotAllowed, HTTPUpgradeRequired
from ._interfaces import ResponseWriter
from ._stream_response import StreamResponse

if TYPE_CHECKING:
    from ._request import BaseRequest

__all__ = ["WSMsgType", "WebSocketReady", "WebSocketResponse"]

DEFAULT_WRITER_LIMIT = 1 << 16
_NOT_PREPARED = "Call .prepare() first"


class WebSocketReady(NamedTuple):
    """What :meth:`WebSocketResponse.can_prepare` found; true when ``ok``."""

    ok: bool
    protocol: str | None

    def __bool__(self) -> bool:
        return self.ok


def _http_error(request: BaseRequest, exc: HandshakeError) -> Exception:
    """The HTTP error matching the core's refusal (RFC 6455 4.2.1, 4.4)."""
    status = exc.status_hint
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in exc.headers]
    if status == 405:
        return HTTPMethodNotAllowed(request.method, ["GET"], text=str(exc))
    if status == 426:
        return HTTPUpgradeRequired(headers=headers, text=str(exc))
    return HTTPBadRequest(headers=headers, text=str(exc))


class WebSocketResponse(StreamResponse):
    """A WebSocket endpoint: ``ws = WebSocketResponse(); await ws.prepare(request)``.

    ``timeout`` is how long ``close()`` waits for the client's Close; ``protocols`` the
    subprotocols we speak (the client's first one we know is chosen); ``compress``
    accepts a permessage-deflate offer; ``max_msg_size`` bounds a message (0: no limit,
    1009 beyond it); ``writer_limit`` is the write-buffer size above which ``send_*``
    waits for the client to read.
    """

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        receive_timeout: float | None = None,
        autoclose: bool = True,
        autoping: bool = True,
        heartbeat: float | None = None,
        protocols: Iterable[str] = (),
        compress: bool = True,
        max_msg_size: int = 4 * 1024 * 1024,
        writer_limit: int = DEFAULT_WRITER_LIMIT,
    ) -> None:
        super().__init__(status=101)
        self._ws_timeout = timeout
        self._receive_timeout = receive_timeout
        self._autoclose = autoclose
        self._autoping = autoping
        self._heartbeat = heartbeat
        self._protocols = tuple(protocols)
        self._compress: bool | int = compress
        self._max_msg_size = max_msg_size
        self._writer_limit = writer_limit
        self._channel: WebSocketChannel | None = None
        self._ws_protocol: str | None = None

    # -- the handshake -----------------------------------------------------------------

    def _handshake(self, request: BaseRequest) -> ServerHandshake:
        head = request.message
        try:
            return ServerHandshake(head.method, head.headers, head.http_version)
        except HandshakeError as exc:
            raise _http_error(request, exc) from None

    def can_prepare(self, request: BaseRequest) -> WebSocketReady:
        """Whether ``request`` is an upgrade we would accept, and the subprotocol chosen."""
        if self._channel is not None:
            raise RuntimeError("Already started")
        try:
            handshake = self._handshake(request)
        except Exception:
            return WebSocketReady(False, None)
        return WebSocketReady(True, handshake.choose_protocol(self._protocols))

    async def prepare(self, request: BaseRequest) -> ResponseWriter | None:
        """Answer 101 and start the WebSocket (once; later calls return the writer)."""
        if self._writer is not None or self._eof_sent:
            return self._writer
        handshake = self._handshake(request)
        headers, protocol, deflate = handshake.accept(
            protocols=self._protocols, compress=bool(self._compress)
        )
        own = self._headers
        for name, value in headers:
            own[name.decode("latin-1")] = value.decode("latin-1")
        self._req = request
        self._must_be_empty_body = True
        self._prepare_headers(request)
        await request._prepare_hook(self)  # on_response_prepare sees the 101 head
        writer = request.writer
        switch: Callable[..., Any] | None = getattr(writer, "switch_protocols", None)
        if switch is None:
            raise RuntimeError(f"{type(writer).__name__} cannot switch protocols")
        upgraded = switch(self._wire_headers())
        self._writer = writer
        self._ws_protocol = protocol
        if deflate is not None:
            self._compress = deflate.server_max_window_bits or 15
        elif self._compress:
            self._compress = 0
        conn = upgraded.connection
        conn.set_write_buffer_limits(high=self._writer_limit)
        channel = WebSocketChannel(
            "server",
            deflate=deflate,
            max_msg_size=self._max_msg_size,
            autoclose=self._autoclose,
            autoping=self._autoping,
            heartbeat=self._heartbeat,
            receive_timeout=self._receive_timeout,
            close_timeout=self._ws_timeout,
        )
        channel.attach(conn, upgraded.trailing_data, upgraded.eof)
        self._channel = channel
        return writer

    # -- state -------------------------------------------------------------------------

    def _ws(self) -> WebSocketChannel:
        channel = self._channel
        if channel is None:
            raise RuntimeError(_NOT_PREPARED)
        return channel

    @property
    def ws_protocol(self) -> str | None:
        """The subprotocol chosen in the handshake, if any."""
        return self._ws_protocol

    @property
    def compress(self) -> bool | int:
        """Before ``prepare``: the setting; after: the agreed window bits, 0 without."""
        return self._compress

    @property
    def closed(self) -> bool:
        return self._channel is not None and self._channel.closed

    @property
    def close_code(self) -> int | None:
        return None if self._channel is None else self._channel.close_code

    def exception(self) -> BaseException | None:
        return None if self._channel is None else self._channel.exception()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The connection's ``peername``, ``sockname``, ``ssl_object``... (as asyncio)."""
        req = self._req
        return default if req is None else req.get_extra_info(name, default)

    # -- receiving ---------------------------------------------------------------------

    # The per-message methods hand back the channel's coroutine instead of awaiting it
    # in one of their own: one coroutine frame less per message.

    def receive(self, timeout: float | None = None) -> Awaitable[WSMessage]:
        channel = self._channel
        if channel is None:
            raise RuntimeError(_NOT_PREPARED)
        return channel.receive(timeout)

    async def receive_str(self, *, timeout: float | None = None) -> str:
        return await self._ws().receive_str(timeout=timeout)

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        return await self._ws().receive_bytes(timeout=timeout)

    async def receive_json(
        self, *, loads: Callable[[str], Any] = json.loads, timeout: float | None = None
    ) -> Any:
        return await self._ws().receive_json(loads=loads, timeout=timeout)

    def __aiter__(self) -> WebSocketResponse:
        return self

    def __anext__(self) -> Awaitable[WSMessage]:
        channel = self._channel
        if channel is None:
            raise RuntimeError(_NOT_PREPARED)
        return channel.__anext__()

    # -- sending -----------------------------------------------------------------------

    def send_str(self, data: str, compress: int | None = None) -> Awaitable[None]:
        channel = self._channel
        if channel is None:
            raise RuntimeError(_NOT_PREPARED)
        return channel.send_str(data, compress)

    def send_bytes(
        self, data: bytes | bytearray | memoryview, compress: int | None = None
    ) -> Awaitable[None]:
        channel = self._channel
        if channel is None:
            raise RuntimeError(_NOT_PREPARED)
        return channel.send_bytes(data, compress)

    async def send_json(
        self, data: Any, compress: int | None = None, *, dumps: Callable[[Any], str] = json.dumps
    ) -> None:
        await self._ws().send_json(data, compress, dumps=dumps)

    async def send_frame(
        self, message: bytes, opcode: WSMsgType, compress: int | None = None
    ) -> None:
        await self._ws().send_frame(message, opcode, compress)

    async def ping(self, message: bytes | str = b"") -> None:
        await self._ws().ping(message)

    async def pong(self, message: bytes | str = b"") -> None:
        await self._ws().pong(message)

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        raise RuntimeError("Cannot call .write() for websocket")

    # -- closing -----------------------------------------------------------------------

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes | str = b"", drop: bool = False
    ) -> bool:
        """Send Close and wait (up to ``timeout``) for the client's; False if closed.

        ``drop=True`` sends Close and closes the connection without waiting.
        """
        channel = self._ws()
        return await channel.close(code=code, message=message, wait=not drop)

    async def write_eof(self, data: bytes = b"") -> None:
        """What the server calls when the handler returns: close the WebSocket (1000)."""
        if self._eof_sent:
            return
        if self._channel is None:
            raise RuntimeError("Response has not been started")
        await self.close()
        self._eof_sent = True

    @property
    def protocol_state(self) -> WSState | None:
        """The sans-IO core's closing-handshake state (None before ``prepare``)."""
        return None if self._channel is None else self._channel.protocol_state
