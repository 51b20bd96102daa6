"""``WebSocketChannel``: the async WebSocket object that client and server both wrap.

It is the :class:`~treadle.backends.ConnectionHandler` of an upgraded connection
(installed with ``conn.set_handler``), so bytes from the socket go straight into the
sans-IO :class:`~treadle.protocol.WebSocketConnection` inside ``data_received``; parsed
messages wait in a queue for :meth:`receive`. Reading therefore continues while a
``send_*`` waits on a full write buffer, so two peers that both write a lot cannot
deadlock; the queue is bounded (reading pauses above ``max_queue_size`` bytes).

Pings are answered inside ``data_received`` (autoping); the heartbeat is one
re-armable backend timer, not a task.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

from ..backends import Backend, Connection, Event, Timer, get_backend
from ..protocol import (
    BytesMessage,
    Close,
    ConnectionClosed,
    LocalProtocolError,
    PerMessageDeflate,
    Ping,
    Pong,
    TextMessage,
    WebSocketConnection,
    WebSocketProtocolError,
    WSState,
)
from ._models import (
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    WebSocketError,
    WSCloseCode,
    WSMessage,
    WSMsgType,
)

__all__ = ["DEFAULT_CLOSE_TIMEOUT", "DEFAULT_MAX_QUEUE_SIZE", "WebSocketChannel"]

DEFAULT_CLOSE_TIMEOUT = 10.0
DEFAULT_MAX_QUEUE_SIZE = 1 << 16
#: ``receive()`` on a closed channel returns CLOSED this many times, then raises (aiohttp).
_CLOSED_ACCESS_LIMIT = 5

#: Messages at least this long go out as two writes (header, payload): no concatenation.
_SPLIT_SIZE = 64 * 1024

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
# WSMessage is a NamedTuple: tuple.__new__ builds one without its Python-level __new__
# (one frame less per received message).
_new_message = tuple.__new__


class WebSocketChannel:
    """An open WebSocket on a backend connection, with aiohttp's receive/send API.

    Create it after the opening handshake, then :meth:`attach` it to the connection
    with the bytes that followed the handshake. ``side``, ``deflate``, ``max_msg_size``
    and ``engine`` configure the protocol core; ``autoclose``, ``autoping``,
    ``heartbeat``, ``receive_timeout`` and ``close_timeout`` behave as in aiohttp.
    ``timeout_error`` builds the error reported when a heartbeat Pong does not come
    (aiohttp's server uses ``TimeoutError``, its client ``ServerTimeoutError``);
    ``reset_error`` is raised when sending on a closed connection and ``type_error`` when
    ``receive_str``/``receive_bytes`` get another type (the client passes aiohttp's
    ``ClientConnectionResetError`` and ``WSMessageTypeError``).
    """

    def __init__(
        self,
        side: Literal["client", "server"],
        *,
        deflate: PerMessageDeflate | None = None,
        max_msg_size: int = 4 * 1024 * 1024,
        autoclose: bool = True,
        autoping: bool = True,
        heartbeat: float | None = None,
        receive_timeout: float | None = None,
        close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
        max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
        engine: str | None = None,
        timeout_error: Callable[[str], BaseException] = TimeoutError,
        reset_error: type[ConnectionResetError] = ConnectionResetError,
        type_error: type[TypeError] = TypeError,
        backend: Backend | None = None,
    ) -> None:
        self._proto = WebSocketConnection(
            side,
            deflate=deflate,
            max_message_size=max_msg_size,
            auto_close=autoclose,
            engine=engine,
        )
        self._backend = backend if backend is not None else get_backend()
        self._create_event = self._backend.create_event
        self._conn: Connection | None = None
        self._autoclose = autoclose
        self._autoping = autoping
        self._heartbeat = heartbeat
        self._receive_timeout = receive_timeout
        self._close_timeout = close_timeout
        self._max_queue = max_queue_size
        self._timeout_error = timeout_error
        self._reset_error = reset_error
        self._type_error = type_error
        self._paused = False  # we paused reading (too many bytes queued)
        self._queue: deque[WSMessage] = deque()
        self._queued_bytes = 0
        self._waiter: Event | None = None
        self._receiving = False
        self._close_received: Event = self._backend.create_event()
        self._closed = False  # we sent Close, or the connection ended
        self._closing = False  # the peer's Close arrived
        self._lost = False
        self._close_code: int | None = None
        self._exception: BaseException | None = None
        self._closed_reads = 0
        self._timer: Timer | None = None
        self._awaiting_pong = False

    # -- set-up ----------------------------------------------------------------------

    def attach(self, conn: Connection, data: bytes = b"", eof: bool = False) -> None:
        """Take over ``conn`` after the handshake; ``data``/``eof``: the trailing bytes."""
        self._conn = conn
        conn.set_handler(self)
        if self._heartbeat:
            self._timer = self._backend.create_timer(self._on_timer)
            self._timer.arm_after(self._heartbeat)
        if data:
            self.data_received(data)
        if eof:
            self.eof_received()

    # -- ConnectionHandler -----------------------------------------------------------

    def connection_made(self, conn: Connection) -> None:
        self._conn = conn

    def data_received(self, data: bytes) -> None:
        proto = self._proto
        if self._timer is not None:
            self._awaiting_pong = False  # any traffic proves the peer alive (aiohttp 3.10)
            self._timer.arm_after(self._heartbeat)  # type: ignore[arg-type]
        queue = self._queue
        message = proto.receive_message(data)
        if message is not None:
            # The hot path: ``data`` was one whole small message (no event objects).
            if not self._closed:
                msg_type = _TEXT if type(message) is str else _BINARY
                queue.append(_new_message(WSMessage, (msg_type, message, None)))
                self._queued_bytes += len(message)
                if self._queued_bytes > self._max_queue and self._conn is not None:
                    self._paused = True
                    self._conn.pause_reading()
            waiter = self._waiter  # _wake(), inlined: queued, or closed
            if waiter is not None:
                self._waiter = None
                waiter.set()
            return
        proto.receive_data(data)
        try:
            for event in proto.events():
                kind = type(event)
                if kind is TextMessage:
                    text: str = event.data  # type: ignore[attr-defined]
                    if not self._closed:
                        queue.append(_new_message(WSMessage, (_TEXT, text, None)))
                        self._queued_bytes += len(text)
                elif kind is BytesMessage:
                    payload: bytes = event.data  # type: ignore[attr-defined]
                    if not self._closed:
                        queue.append(_new_message(WSMessage, (_BINARY, payload, None)))
                        self._queued_bytes += len(payload)
                elif kind is Ping:
                    ping: bytes = event.payload  # type: ignore[attr-defined]
                    if self._autoping:
                        if proto.state is WSState.OPEN:
                            self._write(proto.pong(ping))
                    else:
                        queue.append(WSMessage(WSMsgType.PING, ping, None))
                elif kind is Pong:
                    if not self._autoping:
                        queue.append(WSMessage(WSMsgType.PONG, event.payload, None))  # type: ignore[attr-defined]
                elif kind is Close:
                    self._on_close(event)  # type: ignore[arg-type]
                elif kind is ConnectionClosed:
                    self._on_lost(None)  # EOF without a Close: 1006
                    self._close_transport()
        except WebSocketProtocolError as exc:
            self._on_protocol_error(exc)
        waiter = self._waiter  # _wake(), inlined
        if waiter is not None and (queue or self._closed or self._lost):
            self._waiter = None
            waiter.set()
        if self._queued_bytes > self._max_queue and self._conn is not None and not self._closed:
            self._paused = True
            self._conn.pause_reading()

    def eof_received(self) -> None:
        self.data_received(b"")

    def connection_lost(self, exc: BaseException | None) -> None:
        self._on_lost(exc)
        self._wake()

    # -- events from the peer --------------------------------------------------------

    def _on_close(self, event: Close) -> None:
        self._closing = True
        self._close_code = event.code
        self._write(self._proto.data_to_send())  # the auto-answer, if autoclose
        self._close_received.set()
        if self._proto.state is WSState.CLOSED:
            self._closed = True
            self._close_transport()
        self._queue.append(WSMessage(WSMsgType.CLOSE, event.code, event.reason))

    def _on_protocol_error(self, exc: WebSocketProtocolError) -> None:
        error = WebSocketError(exc.code, str(exc))
        self._write(self._proto.data_to_send())  # the Close carrying the code
        self._fail(error, exc.code)

    def _fail(self, error: BaseException, code: int) -> None:
        if self._exception is None:
            self._exception = error
        self._close_code = code
        self._closed = True
        self._close_received.set()
        self._close_transport()
        self._queue.append(WSMessage(WSMsgType.ERROR, error, None))

    def _on_lost(self, exc: BaseException | None) -> None:
        if self._lost:
            return
        self._lost = True
        if self._timer is not None:
            self._timer.close()
        if self._close_code is None:
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
            if exc is not None and self._exception is None:
                self._exception = exc
        self._closed = True
        self._close_received.set()

    def _on_timer(self) -> None:
        """Heartbeat: ping after ``heartbeat`` quiet seconds; no Pong in half that: fail."""
        if self._closed or self._timer is None or self._heartbeat is None:
            return
        if not self._awaiting_pong:
            self._awaiting_pong = True
            self._write(self._proto.ping(b""))
            self._timer.arm_after(self._heartbeat / 2)
            return
        error = self._timeout_error(f"No PONG received after {self._heartbeat / 2} seconds")
        self._fail(error, WSCloseCode.ABNORMAL_CLOSURE)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and (self._queue or self._closed or self._lost):
            self._waiter = None
            waiter.set()

    def _write(self, data: bytes) -> None:
        if data and self._conn is not None:
            self._conn.write(data)

    def _close_transport(self) -> None:
        if self._conn is not None and not self._conn.is_closing():
            self._conn.close()

    # -- receiving -------------------------------------------------------------------

    async def receive(self, timeout: float | None = None) -> WSMessage:
        """The next message; CLOSE/ERROR once, then CLOSED (as aiohttp).

        Waits at most ``timeout`` (or ``receive_timeout``) seconds, then raises
        ``TimeoutError``. Only one task may receive at a time.
        """
        if self._receiving:
            raise RuntimeError("Concurrent call to receive() is not allowed")
        queue = self._queue
        while not queue:
            if self._closed or self._lost:
                self._closed_reads += 1
                if self._closed_reads > _CLOSED_ACCESS_LIMIT:
                    raise RuntimeError("WebSocket connection is closed.")
                return WS_CLOSED_MESSAGE
            if self._closing:
                return WS_CLOSING_MESSAGE
            if timeout is None:
                timeout = self._receive_timeout
            # Inlined wait (one coroutine frame less per message): data_received sets it.
            self._receiving = True
            try:
                waiter = self._waiter = self._create_event()
                if timeout is None:
                    await waiter.wait()
                else:
                    with self._backend.fail_after(timeout):
                        await waiter.wait()
            finally:
                self._waiter = None
                self._receiving = False
        msg = queue.popleft()
        kind = msg[0]
        if kind is _TEXT or kind is _BINARY:
            self._queued_bytes -= len(msg[1])
            if self._paused and self._queued_bytes <= self._max_queue:
                self._resume()
        return msg

    def _resume(self) -> None:
        self._paused = False
        conn = self._conn
        if conn is not None and not conn.is_reading():
            conn.resume_reading()

    async def receive_str(self, *, timeout: float | None = None) -> str:
        msg = await self.receive(timeout)
        if msg.type is not _TEXT:
            raise self._type_error(
                f"Received message {msg.type}:{msg.data!r} is not WSMsgType.TEXT"
            )
        return msg.data  # type: ignore[no-any-return]

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        msg = await self.receive(timeout)
        if msg.type is not _BINARY:
            raise self._type_error(
                f"Received message {msg.type}:{msg.data!r} is not WSMsgType.BINARY"
            )
        return msg.data  # type: ignore[no-any-return]

    async def receive_json(
        self, *, loads: Callable[[str], Any] = json.loads, timeout: float | None = None
    ) -> Any:
        return loads(await self.receive_str(timeout=timeout))

    def __aiter__(self) -> WebSocketChannel:
        return self

    async def __anext__(self) -> WSMessage:
        msg = await self.receive()
        kind = msg[0]
        if kind is _TEXT or kind is _BINARY:
            return msg
        if kind is WSMsgType.CLOSE or kind is WSMsgType.CLOSING or kind is WSMsgType.CLOSED:
            raise StopAsyncIteration
        return msg

    # -- sending ---------------------------------------------------------------------
    # Hot path: one write, and a drain only when the transport kept bytes back (a
    # drain can only block then).

    async def _send(self, data: bytes) -> None:
        conn = self._conn
        if conn is None:
            raise RuntimeError("the channel is not attached to a connection")
        conn.write(data)
        if conn.get_write_buffer_size():
            await self._drain(conn)

    async def _drain(self, conn: Connection) -> None:
        try:
            await conn.drain()
        except ConnectionResetError as exc:
            if isinstance(exc, self._reset_error):
                raise
            raise self._reset_error(*exc.args) from exc

    def _check_open(self) -> None:
        if self._closed or self._lost or (self._conn is not None and self._conn.is_closing()):
            raise self._reset_error("Cannot write to closing transport")

    async def send_str(self, data: str, compress: int | None = None) -> None:
        if not isinstance(data, str):
            raise TypeError(f"data argument must be str ({type(data)!r})")
        conn = self._conn
        if self._closed or self._lost or conn is None or conn.is_closing():
            self._check_open()
            raise RuntimeError("the channel is not attached to a connection")
        conn.write(self._proto.send_text(data))
        if conn.get_write_buffer_size():
            await self._drain(conn)

    async def send_bytes(
        self, data: bytes | bytearray | memoryview, compress: int | None = None
    ) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        self._check_open()
        if len(data) < _SPLIT_SIZE:
            await self._send(self._proto.send_bytes(data))
            return
        conn = self._conn
        if conn is None:
            raise RuntimeError("the channel is not attached to a connection")
        head, body = self._proto.send_parts(data)
        conn.write(head)
        if body:
            conn.write(body)
        if conn.get_write_buffer_size():
            await self._drain(conn)

    async def send_json(
        self, data: Any, compress: int | None = None, *, dumps: Callable[[Any], str] = json.dumps
    ) -> None:
        await self.send_str(dumps(data), compress=compress)

    async def send_frame(
        self, message: bytes, opcode: WSMsgType, compress: int | None = None
    ) -> None:
        """Send one whole message or control frame of the given type."""
        if opcode is WSMsgType.TEXT:
            await self.send_str(message.decode("utf-8"))
        elif opcode is WSMsgType.BINARY:
            await self.send_bytes(message)
        elif opcode is WSMsgType.PING:
            await self.ping(message)
        elif opcode is WSMsgType.PONG:
            await self.pong(message)
        elif opcode is WSMsgType.CLOSE:
            code = int.from_bytes(message[:2], "big") if message else 1000
            await self.close(code=code, message=message[2:])
        else:
            raise ValueError(f"cannot send a frame of type {opcode!r}")

    async def ping(self, message: bytes | str = b"") -> None:
        self._check_open()
        await self._send(self._proto.ping(_to_bytes(message)))

    async def pong(self, message: bytes | str = b"") -> None:
        self._check_open()
        await self._send(self._proto.pong(_to_bytes(message)))

    # -- closing ---------------------------------------------------------------------

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes | str = b"", wait: bool = True
    ) -> bool:
        """Send Close and wait (up to ``close_timeout``) for the peer's; False if closed.

        A peer that never answers cannot hold the connection: after the timeout the
        connection is closed and ``close_code`` is 1006 (ABNORMAL_CLOSURE).
        ``wait=False`` (aiohttp's ``drop=True``) closes the connection right after our
        Close without waiting for the peer's.
        """
        if self._closed or self._lost:
            self._close_transport()
            return False
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        reason = message.decode("utf-8") if isinstance(message, bytes) else message
        proto = self._proto
        try:
            self._write(proto.close(code, reason))
        except LocalProtocolError:
            if proto.state is not WSState.CLOSED:
                raise
        self._resume()  # the peer's Close must get through
        self._wake()
        if not self._closing and wait:
            try:
                with self._backend.fail_after(self._close_timeout):
                    await self._close_received.wait()
            except TimeoutError:
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                if self._conn is not None:
                    self._conn.abort()
                self._drop_queue()
                return True
            except BaseException:
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                if self._conn is not None:
                    self._conn.abort()
                raise
            # As aiohttp, close() consumes what the peer sent up to its Close: receive()
            # then returns CLOSED.
            self._drop_queue()
        self._close_transport()
        return True

    def _drop_queue(self) -> None:
        self._queue.clear()
        self._queued_bytes = 0

    @property
    def closed(self) -> bool:
        return self._closed or self._lost

    @property
    def close_code(self) -> int | None:
        return self._close_code

    def exception(self) -> BaseException | None:
        return self._exception

    @property
    def connection(self) -> Connection | None:
        return self._conn

    @property
    def protocol_state(self) -> WSState:
        return self._proto.state


def _to_bytes(message: bytes | str) -> bytes:
    return message.encode("utf-8") if isinstance(message, str) else bytes(message)
