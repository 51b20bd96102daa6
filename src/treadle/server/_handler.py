"""``RequestHandler``: one HTTP/1.1 server connection, from bytes to handler tasks.

A backends ``ConnectionHandler``: ``data_received`` feeds the sans-IO
``ServerConnection`` and turns its events into requests. Each request gets a body
stream, a writer and, in its turn, a task running the application handler: pipelined
requests are answered in order, one handler at a time (as aiohttp does), and the core
bounds how many may wait (``Limits.max_pipelined_requests``, else 429).

One re-armable timer per connection covers both timeouts: the *header-read* timeout
(from the first byte of a request head, or from accepting the connection, to the end
of the head: a client trickling a head slowly is cut off) and the *keep-alive* timeout
(idle between requests). A running handler is never timed out by the server.

Malformed requests are answered with the core's ``status_hint`` (400, 413, 414, 431,
501, 505...) and a fixed body, then the connection closes. An unhandled handler error
is logged with its traceback on ``treadle.server`` and answered 500 without details.
"""

from __future__ import annotations

import logging
import traceback
from collections import deque
from contextlib import suppress
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..backends import Backend, Connection, TaskHandle, Timer, get_backend
from ..message import EMPTY_PAYLOAD, ContentDecoder, DecompressionError, StreamReader
from ..protocol import (
    NEED_DATA,
    ConnectionClosed,
    Data,
    EndOfMessage,
    InformationalResponse,
    LocalProtocolError,
    RemoteProtocolError,
    Request,
    ServerConnection,
)
from ._error_page import error_response
from ._exceptions import HTTPBadRequest, HTTPException
from ._request_decoding import content_encoding, decoder_for, decoding_error
from ._writer import HTTPWriter

if TYPE_CHECKING:
    from ._web_server import Server

__all__ = ["RequestHandler", "server_logger"]

server_logger = logging.getLogger("treadle.server")


class _RequestBody(StreamReader):
    """A request body that asks for ``100 Continue`` when first waited on.

    RFC 9110 10.1.1: a client sending ``Expect: 100-continue`` waits for the interim
    response before the body; the server sends it only once the handler (after its
    route's expect handler accepted) actually reads, so refused or unread uploads are
    never transferred.
    """

    __slots__ = ("_continue",)

    def __init__(self, limit: int, handler: RequestHandler, expect_continue: bool) -> None:
        conn = handler._conn
        assert conn is not None
        super().__init__(limit, on_pause=conn.pause_reading, on_resume=conn.resume_reading)
        self._continue: RequestHandler | None = handler if expect_continue else None

    async def _wait(self, what: str) -> None:
        handler = self._continue
        if handler is not None:
            self._continue = None
            handler._send_continue()
        await super()._wait(what)


class _DecodingBody(_RequestBody):
    """A request body decoded from its ``Content-Encoding`` as it arrives."""

    __slots__ = ("_decoder",)

    def __init__(
        self, limit: int, handler: RequestHandler, expect_continue: bool, decoder: ContentDecoder
    ) -> None:
        super().__init__(limit, handler, expect_continue)
        self._decoder: ContentDecoder | None = decoder

    def feed_data(self, data: bytes) -> None:
        decoder = self._decoder
        if decoder is None:
            return  # failed already: the error is what readers get
        try:
            decoded = decoder.decompress(data)
        except DecompressionError as exc:
            self._decoder = None
            self.set_exception(decoding_error(exc, decoder))
            return
        if decoded:
            super().feed_data(decoded)

    def feed_eof(self) -> None:
        decoder = self._decoder
        if decoder is not None:
            try:
                tail = decoder.flush()
            except DecompressionError as exc:
                self._decoder = None
                self.set_exception(decoding_error(exc, decoder))
                return
            if tail:
                super().feed_data(tail)
        super().feed_eof()


class RequestHandler:
    """The ``ConnectionHandler`` (and ``ConnectionInfo``) of one server connection."""

    __slots__ = (
        "_backend",
        "_close_after",
        "_conn",
        "_current",
        "_error",
        "_head_started",
        "_heads",
        "_idle_event",
        "_lingering",
        "_lost",
        "_paused_for_switch",
        "_peer_eof",
        "_pending",
        "_proto",
        "_queue",
        "_receiving",
        "_server",
        "_switched",
        "_task",
        "_timer",
    )

    def __init__(self, server: Server) -> None:
        self._server = server
        self._proto = ServerConnection(engine=server.engine, limits=server.limits)
        self._conn: Connection | None = None
        self._backend: Backend | None = None
        self._timer: Timer | None = None
        self._queue: deque[tuple[Any, HTTPWriter]] = deque()
        self._current: Any = None
        self._task: TaskHandle | None = None
        self._pending: Request | None = None
        self._receiving: StreamReader | None = None
        self._error: RemoteProtocolError | None = None
        self._heads = 0
        self._head_started = False
        self._close_after = False
        self._peer_eof = False
        self._lost = False
        self._switched = False
        self._paused_for_switch = False
        self._lingering = False
        self._idle_event: Any = None

    def __repr__(self) -> str:
        peer = None if self._conn is None else self._conn.peername
        state = "busy" if self._current is not None else "idle"
        return f"<RequestHandler {peer!r} {state}>"

    # -- ConnectionInfo -------------------------------------------------------------------

    @property
    def peername(self) -> Any:
        return None if self._conn is None else self._conn.peername

    @property
    def sockname(self) -> Any:
        return None if self._conn is None else self._conn.sockname

    @property
    def ssl_object(self) -> Any:
        return None if self._conn is None else self._conn.ssl_object

    @property
    def connection(self) -> Connection | None:
        """The backend connection (None before ``connection_made``)."""
        return self._conn

    def force_close(self) -> None:
        """Close the connection once the current response is sent (no keep-alive)."""
        self._close_after = True

    @property
    def keep_alive(self) -> bool:
        return not self._close_after

    # -- ConnectionHandler ----------------------------------------------------------------

    def connection_made(self, conn: Connection) -> None:
        server = self._server
        self._conn = conn
        backend = self._backend = get_backend()
        if server.tcp_keepalive:
            server._set_keepalive(conn)
        timer = self._timer = backend.create_timer(self._on_timeout)
        # The first request head must arrive in time, as any later one.
        timer.arm_after(server.header_read_timeout)
        self._head_started = True
        self._close_after = server._shutting_down  # accepted during shutdown: one request
        server._connections.add(self)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # the rest of a body nobody reads: dropped until the client closes
        self._proto.receive_data(data)
        heads = self._heads
        self._process()
        if (
            self._heads == heads
            and not self._head_started
            and self._receiving is None
            and self._current is None
            and self._timer is not None
            and not self._switched
        ):
            # Bytes of a new head and nothing completed: the header-read clock starts.
            self._head_started = True
            self._timer.arm_after(self._server.header_read_timeout)

    def eof_received(self) -> None:
        if self._lingering:
            self._close()
            return
        self._proto.receive_data(b"")
        self._process()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._lost = True
        if self._timer is not None:
            self._timer.close()
        lost = ConnectionResetError("Connection lost")
        if self._receiving is not None:
            self._receiving.set_exception(lost)
            self._receiving = None
        for request, _ in self._queue:
            payload = request.content
            if payload is not EMPTY_PAYLOAD and payload.exception() is None:
                payload.set_exception(lost)
        self._queue.clear()
        task = self._task
        if task is not None and self._server.handler_cancellation:
            task.cancel()
        if self._current is None:
            self._server._connections.discard(self)
        self._wake_idle()

    # -- the receive path -------------------------------------------------------------------

    def _process(self) -> None:
        """Take every event the core has ready; start the next handler if it is time."""
        proto = self._proto
        while self._error is None:
            try:
                event = proto.next_event()
            except RemoteProtocolError as exc:
                self._protocol_error(exc)
                break
            kind = type(event)
            if kind is Data:
                reader = self._receiving
                if reader is None:
                    if self._pending is None:
                        continue  # the rest of a body its handler did not read
                    reader = self._body_for_pending()
                reader.feed_data(event.data)  # type: ignore[union-attr]
            elif kind is Request:
                self._heads += 1
                self._head_started = False
                self._pending = event  # type: ignore[assignment]
            elif kind is EndOfMessage:
                if self._pending is not None:
                    self._dispatch(self._pending, EMPTY_PAYLOAD)
                    self._pending = None
                elif self._receiving is not None:
                    self._receiving.feed_eof()
                    self._receiving = None
            elif event is NEED_DATA:
                if self._pending is not None:
                    self._body_for_pending()  # a body follows: the handler may start now
                break
            elif kind is ConnectionClosed:
                self._peer_eof = True
                self._close_after = True
                if self._task is not None and self._server.handler_cancellation:
                    # The client closed its side: with cancellation on, that is a
                    # disconnect (as for aiohttp, whose transport closes on EOF).
                    self._task.cancel()
                break
            else:  # PAUSED: an Upgrade or CONNECT request waits for its answer
                if not self._paused_for_switch and self._conn is not None:
                    self._paused_for_switch = True
                    self._conn.pause_reading()
                break
        if self._current is None:
            self._next()

    def _body_for_pending(self) -> StreamReader:
        head = self._pending
        assert head is not None
        self._pending = None
        server = self._server
        expect = self._proto.client_is_waiting_for_100_continue
        decoder = None
        if server.auto_decompress:
            encoding = content_encoding(head.headers)
            if encoding is not None:
                decoder = decoder_for(encoding)
        if decoder is None:
            reader: StreamReader = _RequestBody(server.read_bufsize, self, expect)
        else:
            reader = _DecodingBody(server.read_bufsize, self, expect, decoder)
        self._receiving = reader
        self._dispatch(head, reader)
        return reader

    def _dispatch(self, head: Request, payload: StreamReader) -> None:
        conn = self._conn
        assert conn is not None
        writer = HTTPWriter(self, conn, self._proto)
        request = self._server._request_factory(head, payload, self, writer, None)
        self._queue.append((request, writer))

    def _protocol_error(self, exc: RemoteProtocolError) -> None:
        self._server.logger.debug("bad request from %r: %s", self.peername, exc)
        self._error = exc
        if self._pending is not None:  # its body is what was bad: answer the error instead
            self._pending = None
        if self._receiving is not None:
            self._receiving.set_exception(HTTPBadRequest(text=f"Bad request body: {exc}"))
            self._receiving = None
        if self._conn is not None:
            self._conn.pause_reading()  # the core ignores anything more

    def _next(self) -> None:
        """Start the next queued request, or answer a pending error, or go idle."""
        if self._lost:
            return
        if self._queue:
            request, writer = self._queue.popleft()
            self._current = request
            backend = self._backend
            assert backend is not None
            task = self._task = backend.spawn(self._run, request, writer)
            request._task = task
            return
        if self._error is not None:
            self._answer_error(self._error.status_hint)
            return
        if self._close_after:
            self._close()
            return
        # Idle: the keep-alive clock runs until the next head starts.
        if not self._head_started and self._timer is not None:
            self._timer.arm_after(self._server.keepalive_timeout)
        self._wake_idle()

    def _on_timeout(self) -> None:
        if self._current is not None or self._queue or self._switched:
            return  # a handler runs: the server does not time it out
        if self._head_started and self._receiving is None:
            self._server.logger.debug("header-read timeout: closing %r", self)
        self._close()

    # -- running a handler ------------------------------------------------------------------

    async def _run(self, request: Any, writer: HTTPWriter) -> None:
        server = self._server
        log = server._access_log
        if log is not None and not log.enabled:
            log = None
        start = self._backend.current_time() if log is not None else 0.0  # type: ignore[union-attr]
        response: Any = None
        try:
            try:
                response = await server.request_handler(request)
                if isinstance(response, HTTPException):
                    response = server._from_http_exception(response)
            except HTTPException as exc:  # a low-level Server's handler raising one
                response = server._from_http_exception(exc)
            if not self._switched:
                if response is None or not hasattr(response, "prepare"):
                    raise TypeError(
                        f"the request handler returned {response!r}, not a response "
                        "(missing return statement?)"
                    )
                await response.prepare(request)
                await response.write_eof()
            elif hasattr(response, "write_eof"):
                await response.write_eof()  # a WebSocketResponse closes (as aiohttp)
        except Exception as exc:
            response = self._handler_failed(request, writer, exc)
        except BaseException:
            self._close_switched()  # cancelled: the new protocol ends with its handler
            raise
        finally:
            self._finish(request, writer)
        if log is not None and response is not None:
            log.log(request, response, self._backend.current_time() - start)  # type: ignore[union-attr]

    def _handler_failed(self, request: Any, writer: HTTPWriter, exc: Exception) -> Any:
        conn = self._conn
        if isinstance(exc, ConnectionError) and (self._lost or conn is None or conn.is_closing()):
            self._server.logger.debug("Ignored premature client disconnection: %r", exc)
            return None
        server = self._server
        server.logger.error("Error handling request from %r", self.peername, exc_info=exc)
        self._close_switched()
        if writer.headers_sent or self._switched or self._lost:
            return None  # too late for an error page: the connection closes (_finish)
        try:
            # debug=True shows the traceback (development only: it may reveal internals).
            details = "".join(traceback.format_exception(exc)) if server.debug else None
            out = error_response(
                self._proto, 500, head_only=request.method == "HEAD", details=details
            )
        except LocalProtocolError:
            return None
        writer._done = True
        writer._headers_sent = True
        assert self._conn is not None
        self._conn.write(out)
        self._close_after = True
        return _ErrorResponse(500)

    def _finish(self, request: Any, writer: HTTPWriter) -> None:
        """The handler returned (or failed, or was cancelled): keep alive or close."""
        self._current = None
        self._task = None
        self._server.requests_count += 1
        if self._switched:
            self._server._connections.discard(self)
            self._wake_idle()
            return
        if self._lost:
            self._server._connections.discard(self)
            self._wake_idle()
            return
        payload = request.content
        unread = self._receiving is payload and payload is not EMPTY_PAYLOAD
        if unread:
            # The body was not read to its end: the core will not parse what follows.
            self._receiving = None
        if not writer.finished:
            self._close()
        elif self._proto.must_close:
            if unread:
                self._linger()
            else:
                self._close()
        else:
            self._resume_after_response()

    def _resume_after_response(self) -> None:
        if self._paused_for_switch:  # an Upgrade request answered without switching
            self._paused_for_switch = False
            assert self._conn is not None
            self._conn.resume_reading()
        self._process()

    def _send_continue(self) -> None:
        """The handler started reading a body whose client waits for ``100 Continue``."""
        proto = self._proto
        if self._conn is None or not proto.client_is_waiting_for_100_continue:
            return
        # LocalProtocolError: the response is already under way, too late for an interim one.
        with suppress(LocalProtocolError):
            self._conn.write(proto.send(InformationalResponse(100)))

    def _switch(self) -> None:
        """The response switched protocols: this handler lets go of the connection."""
        self._switched = True
        if self._timer is not None:
            self._timer.close()
        if self._paused_for_switch and self._conn is not None:
            # Reading was paused while the Upgrade waited for its answer; the new
            # handler (installed before the caller's next await) receives what follows.
            self._paused_for_switch = False
            self._conn.resume_reading()

    # -- closing ------------------------------------------------------------------------------

    def _close_switched(self) -> None:
        """A switched connection's handler failed: close the connection it took over."""
        conn = self._conn
        if self._switched and conn is not None and not conn.is_closing():
            conn.close()

    def _answer_error(self, status: int) -> None:
        conn = self._conn
        assert conn is not None
        try:
            out = error_response(self._proto, status)
        except LocalProtocolError:
            conn.abort()
            return
        conn.write(out)
        self._log_error_answer(status)
        self._linger()  # the client may still be sending what we refused

    def _log_error_answer(self, status: int) -> None:
        """Access-log an answer to a request that could not be parsed (as aiohttp does,
        with the method ``UNKNOWN``), so scans and broken clients show in the log."""
        log = self._server._access_log
        if log is None or not log.enabled:
            return
        peer = self.peername
        try:
            log.log(
                _UnparsedRequest(peer[0] if isinstance(peer, tuple) else peer),
                _ErrorResponse(status),
                0.0,
            )
        except Exception:
            self._server.logger.exception("Error in the access logger")

    def _close(self) -> None:
        if self._conn is not None and not self._switched:
            self._conn.close()

    def _linger(self) -> None:
        """Close after an answer given before the request body ended (a 413, say).

        Closing at once with unread bytes in the socket makes the kernel send a reset,
        which can destroy the answer before the client reads it. So the response is
        followed by a FIN, what the client still sends is read and dropped, and the
        socket closes when the client closes or after ``lingering_time`` (as aiohttp).
        """
        conn = self._conn
        timer = self._timer
        if conn is None or timer is None or not conn.can_write_eof():
            self._close()  # TLS cannot half-close
            return
        self._lingering = True
        conn.write_eof()
        conn.resume_reading()
        timer.arm_after(self._server.lingering_time)

    def _close_idle(self) -> bool:
        """Close now if no request is being handled or waiting (graceful shutdown)."""
        self._close_after = True
        if self._current is None and not self._queue:
            self._close()
            return True
        return False

    def _cancel(self) -> None:
        """Cancel the running handler and drop queued requests (shutdown deadline)."""
        self._queue.clear()
        if self._task is not None:
            self._task.cancel()

    def _wake_idle(self) -> None:
        event = self._idle_event
        if event is not None:
            self._idle_event = None
            event.set()

    async def _wait_idle(self) -> None:
        """Until no request is being handled or waiting on this connection."""
        while self._current is not None or self._queue:
            event = self._idle_event
            if event is None:
                assert self._backend is not None
                event = self._idle_event = self._backend.create_event()
            await event.wait()


class _ErrorResponse:
    """What the access log sees for an error the server answered itself."""

    __slots__ = ("status",)

    body_length = 0
    headers = None

    def __init__(self, status: int) -> None:
        self.status = status


class _UnparsedRequest:
    """What the access log sees for a request that could not be parsed (aiohttp logs
    ``"UNKNOWN / HTTP/1.0"``): nothing of what the client sent."""

    __slots__ = ("remote",)

    method = "UNKNOWN"
    path = path_qs = raw_path = "/"
    version = (1, 0)
    headers: Any = MappingProxyType({})

    def __init__(self, remote: Any) -> None:
        self.remote = remote
