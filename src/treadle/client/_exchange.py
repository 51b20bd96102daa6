"""One pooled HTTP/1.1 client connection, and the request/response exchanges run on it.

:class:`PooledConnection` is the backend ``ConnectionHandler``: bytes from the socket go
straight into the sans-IO ``ClientConnection`` and its events are dispatched in the same
callback (response head to a waiting ``read_head``, body pieces to the response's
``StreamReader``), with no task or queue in between. It lives as long as the socket and
serves one request after another.

:class:`ConnectorExchange` is one request on it (the ``Exchange`` seam of
``_interfaces.py``). A fresh small object per request makes ``release()``/``close()``
idempotent: a stale exchange kept by the caller can never touch the connection once it
serves another request.

Errors are never silent: a body cut short or badly framed fails the ``StreamReader``
with ``ClientPayloadError``; a peer that closes before the head gives
``ServerDisconnectedError``; a malformed head gives ``ClientResponseError``.

Timeouts use one re-armable timer per connection, armed lazily: the ``sock_read``
timeout (re-armed as data arrives, held while the reader applies backpressure) gives
``SocketTimeoutError``, and ``ClientTimeout.total`` (the exchange's deadline, over the
head and the body) gives ``ServerTimeoutError``. The timer is never cancelled on the
hot path: when it fires early it re-arms for what is due now, so an exchange that ends
in time costs no timer call at all (a 300 s default deadline moves forward with each
request, the timer wakes up about once per 300 s per busy connection).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..message import StreamReader
from ..protocol import (
    ClientConnection,
    Data,
    EndOfMessage,
    InformationalResponse,
    Limits,
    RemoteProtocolError,
    Request,
    Response,
)
from ._exceptions import (
    ClientConnectionResetError,
    ClientOSError,
    ClientPayloadError,
    ClientResponseError,
    RequestInfo,
    ServerDisconnectedError,
    ServerTimeoutError,
    SocketTimeoutError,
)
from ._interfaces import ConnectionKey

if TYPE_CHECKING:
    from ..backends import Backend, Connection, Event, Timer

__all__ = ["DEFAULT_READ_BUFSIZE", "ConnectorExchange", "PooledConnection"]

DEFAULT_READ_BUFSIZE = 2**16

#: Called by a connection when its exchange ends: ``(conn, reusable)``.
ReleaseCallback = Callable[["PooledConnection", bool], None]


class PooledConnection:
    """A backend connection driven by a sans-IO ``ClientConnection``, kept by the pool."""

    __slots__ = (
        "_active",
        "_backend",
        "_body_done",
        "_continue",
        "_head",
        "_head_error",
        "_limits",
        "_on_idle_lost",
        "_on_release",
        "_peer_eof",
        "_pending",
        "_read_due",
        "_reader",
        "_request",
        "_sock_read",
        "_stop_writing",
        "_timer",
        "_total_due",
        "_waiter",
        "broken",
        "conn",
        "detached",
        "expires",
        "idle",
        "key",
        "lost",
        "proto",
        "requests",
        "url",
    )

    def __init__(
        self,
        backend: Backend,
        key: ConnectionKey,
        on_release: ReleaseCallback,
        on_idle_lost: Callable[[PooledConnection], None],
        limits: Limits | None = None,
    ) -> None:
        self._backend = backend
        self.key = key
        self._on_release = on_release
        self._on_idle_lost = on_idle_lost
        self._limits = limits
        self.proto = ClientConnection(limits=limits)
        self.conn: Connection | None = None
        self.requests = 0  # exchanges started on this connection
        self.idle = False  # parked in the pool
        self.lost = False  # the socket is closed
        self.broken = False  # an error or timeout: never reuse
        self.detached = False  # handed over after a protocol switch
        self.expires = 0.0
        self._reader: StreamReader | None = None
        self._head: Response | None = None
        self._head_error: BaseException | None = None
        self._body_done = False
        self._continue = False
        self._stop_writing = False
        self._peer_eof = False
        self._pending = b""
        self._request: Request | None = None
        self._waiter: Event | None = None
        self._timer: Timer | None = None
        self._active = False  # an exchange runs (what the timer may act on)
        self._sock_read: float | None = None
        self._read_due: float | None = None  # when sock_read expires, while waiting
        self._total_due: float | None = None  # ClientTimeout.total of the exchange
        self.url: Any = None  # the request's URL, for timeout messages

    def __repr__(self) -> str:
        state = "lost" if self.lost else "idle" if self.idle else "active"
        return f"<PooledConnection {self.key.host}:{self.key.port} {state}>"

    # -- what the pool asks ----------------------------------------------------------

    @property
    def usable(self) -> bool:
        """Whether an idle connection can take another request."""
        return not (self.lost or self.broken) and self.proto.is_idle

    # -- ConnectionHandler --------------------------------------------------------------

    def connection_made(self, conn: Connection) -> None:
        self.conn = conn

    def data_received(self, data: bytes) -> None:
        if self.idle:
            # RFC 9112 9.3: nothing may arrive between responses; whatever it is (often
            # a 408 before the server closes), this connection cannot carry a request.
            self.broken = True
            self._close_idle()
            return
        if self._read_due is not None:
            # later than before: the timer, if early, re-arms itself when it fires
            self._read_due = self._backend.current_time() + self._sock_read  # type: ignore[operator]
        self.proto.receive_data(data)
        self._process()

    def eof_received(self) -> None:
        if self.idle:
            self._close_idle()
            return
        self._peer_eof = True
        self.proto.receive_data(b"")
        self._process()
        if self._head is None and self._head_error is None:
            self._fail_head(ServerDisconnectedError())

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = True
        if self._timer is not None:
            self._timer.close()
            self._timer = None
        if self.idle:
            self._on_idle_lost(self)
            return
        if self._request is None:
            return
        if self._head is None:
            if self._head_error is None:
                if exc is None:
                    error: BaseException = ServerDisconnectedError()
                elif isinstance(exc, OSError) and exc.args:
                    error = ClientOSError(*exc.args)  # as aiohttp: errno and strerror kept
                else:
                    error = ClientOSError(f"Connection lost: {exc!r}")
                self._fail_head(error)
        elif not self._body_done and self._reader is not None:
            cause = "connection closed" if exc is None else f"connection lost: {exc!r}"
            self._fail_body(self._payload_error(cause))
        self._wake()

    # -- events -------------------------------------------------------------------------

    def _process(self) -> None:
        proto = self.proto
        try:
            while True:
                event = proto.next_event()
                kind = type(event)
                if kind is Data:
                    assert self._reader is not None
                    self._reader.feed_data(event.data)  # type: ignore[union-attr]
                elif kind is Response:
                    self._head = event  # type: ignore[assignment]
                    self._wake()
                elif kind is EndOfMessage:
                    self._end_of_body()
                elif kind is InformationalResponse:
                    status = event.status_code  # type: ignore[union-attr]
                    if status == 101:
                        head: Any = event
                        self._head = Response(101, head.headers, head.reason, head.http_version)
                        self._end_of_body()
                        self._wake()
                        return
                    if status == 100:
                        self._continue = True
                        self._wake()
                else:  # ConnectionClosed, NEED_DATA, PAUSED
                    return
        except RemoteProtocolError as exc:
            self._protocol_error(exc)

    def _end_of_body(self) -> None:
        self._body_done = True
        self._read_due = self._total_due = None  # nothing left to time out
        if self._reader is not None:
            self._reader.feed_eof()

    def _protocol_error(self, exc: RemoteProtocolError) -> None:
        self.broken = True
        if self._head is None:
            # 400 for every malformed head, as aiohttp (its BadHttpMessage family): the
            # core's status_hint (431, 501...) is the answer a server would give
            error: BaseException = ClientResponseError(
                self.request_info(), (), status=400, message=f"Invalid response: {exc}"
            )
            if self._peer_eof:
                error = ServerDisconnectedError(f"Server disconnected: {exc}")
            self._fail_head(error)
        else:
            self._fail_body(self._payload_error(exc))
        self._abort()

    def _fail_head(self, error: BaseException) -> None:
        self.broken = True
        self._head_error = error
        self._wake()

    def _fail_body(self, error: BaseException) -> None:
        self.broken = True
        reader = self._reader
        if reader is not None and not reader.is_eof() and reader.exception() is None:
            reader.set_exception(error)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            waiter.set()

    async def _wait(self) -> None:
        waiter = self._waiter = self._backend.create_event()
        await waiter.wait()

    def _abort(self) -> None:
        if self.conn is not None:
            self.conn.abort()

    def _close_idle(self) -> None:
        self.broken = True
        if self.conn is not None:
            self.conn.close()

    # -- timeouts (sock_read and total) -------------------------------------------------

    def _arm(self, due: float) -> None:
        """Make sure the timer fires by ``due`` (it may fire earlier and re-arm)."""
        timer = self._timer
        if timer is None:
            timer = self._timer = self._backend.create_timer(self._timed_out)
        armed = timer.deadline
        if armed is None or due < armed:
            timer.arm(due)

    def _arm_read_timer(self) -> None:
        sock_read = self._sock_read
        if sock_read is None:
            return
        due = self._read_due = self._backend.current_time() + sock_read
        self._arm(due)

    def _timed_out(self) -> None:
        """The timer fired: fail what is overdue, or re-arm for what is due next."""
        if not self._active or self.lost:
            return
        now = self._backend.current_time()
        total, read = self._total_due, self._read_due
        if total is not None and now >= total:
            what = "request to" if self._head is None else "reading data from"
            self._time_out(ServerTimeoutError(f"Timeout on {what} {self.url}"))
        elif read is not None and now >= read:
            self._time_out(
                SocketTimeoutError(
                    f"Timeout on reading data from socket ({self.key.host}:{self.key.port}, "
                    f"no data for {self._sock_read} s)"
                )
            )
        elif total is not None or read is not None:
            assert self._timer is not None
            self._timer.arm(min(due for due in (total, read) if due is not None))

    def _time_out(self, error: BaseException) -> None:
        if self._head is None and self._head_error is None:
            self._fail_head(error)
        elif self._head is not None and not self._body_done:
            self._fail_body(error)
        else:
            return
        self._read_due = self._total_due = None
        self._abort()

    def _pause_reading(self) -> None:
        # The application is not keeping up: not the server's fault, so no read timeout.
        if self.conn is not None:
            self.conn.pause_reading()
        self._read_due = None

    def _resume_reading(self) -> None:
        if self.conn is not None and not self.idle:
            self.conn.resume_reading()
        if not self._body_done:
            self._arm_read_timer()

    # -- one exchange --------------------------------------------------------------------

    def start(
        self, sock_read: float | None, read_bufsize: int, deadline: float | None = None
    ) -> StreamReader:
        """Reset the per-response state for a new request; the new body reader.

        ``deadline`` (``ClientTimeout.total``) bounds the head and the body.
        """
        self.requests += 1
        self._active = True
        self.idle = False
        self._head = None
        self._head_error = None
        self._body_done = False
        self._continue = False
        self._stop_writing = False
        self._pending = b""
        self._sock_read = sock_read or None
        self._read_due = None
        self._total_due = deadline
        if deadline is not None:
            self._arm(deadline)
        reader = self._reader = StreamReader(
            read_bufsize, on_pause=self._pause_reading, on_resume=self._resume_reading
        )
        return reader

    @property
    def backend(self) -> Backend:
        return self._backend

    def _payload_error(self, cause: object) -> ClientPayloadError:
        """A body cut short or badly framed; the message names the cause and the URL."""
        url = self.request_info().url
        return ClientPayloadError(f"Response payload is not completed: {cause} (from {url})")

    def request_info(self) -> RequestInfo:
        request = self._request
        if request is None:
            return RequestInfo(f"{self.key.host}:{self.key.port}", "", ())
        target = request.target.decode("latin-1")
        if target.startswith("/"):
            scheme = "https" if self.key.is_ssl else "http"
            target = f"{scheme}://{self.key.host}:{self.key.port}{target}"
        return RequestInfo(target, request.method.decode("latin-1"), request.headers)

    def send_head(self, head: Request) -> None:
        self._pending = self.proto.send(head)
        self._request = head

    def _lost_error(self) -> ClientConnectionResetError:
        return ClientConnectionResetError(
            f"Cannot write to closing transport ({self.key.host}:{self.key.port})"
        )

    async def _flush(self, data: bytes) -> None:
        conn = self.conn
        if self._stop_writing:
            return
        if self.lost or conn is None or conn.is_closing():
            if self._head is not None:
                # The server answered early and closed (e.g. 413): let read_head have it.
                self._stop_writing = True
                return
            if self._head_error is not None:
                raise self._head_error
            raise self._lost_error()
        if data:
            conn.write(data)
        try:
            await conn.drain()
        except ConnectionResetError:
            if self._head is not None:
                self._stop_writing = True
                return
            if self._head_error is not None:
                raise self._head_error from None
            raise self._lost_error() from None

    async def send_bodiless(self, head: Request) -> None:
        """A request without a body: head and end serialised, then one write."""
        proto = self.proto
        out = proto.send(head)
        self._request = head
        end = proto.send(EndOfMessage())
        if end:  # the last chunk of an empty chunked body
            out += end
        self._arm_read_timer()
        await self._flush(out)

    async def write(self, data: bytes) -> None:
        if self._stop_writing:
            return
        out = self.proto.send(Data(data))
        if self._pending:
            out = self._pending + out
            self._pending = b""
        await self._flush(out)

    async def end_body(self) -> None:
        if self._stop_writing:
            return
        out = self.proto.send(EndOfMessage())
        if self._pending:
            out = self._pending + out
            self._pending = b""
        if self._head is None and self._head_error is None:
            self._arm_read_timer()
        await self._flush(out)

    async def read_head(self) -> Response:
        if self._pending:
            out, self._pending = self._pending, b""
            await self._flush(out)
        while True:
            if self._head is not None:
                return self._head
            if self._head_error is not None:
                raise self._head_error
            # _wait(), inlined: one frame less to resume when the head arrives
            waiter = self._waiter = self._backend.create_event()
            await waiter.wait()

    async def wait_for_100_continue(self) -> bool:
        if self._pending:
            out, self._pending = self._pending, b""
            self._arm_read_timer()
            await self._flush(out)
        while True:
            if self._head is not None:
                return False
            if self._head_error is not None:
                raise self._head_error
            if self._continue:
                return True
            await self._wait()

    def reusable(self) -> bool:
        return (
            self._body_done
            and not (self.lost or self.broken or self.detached)
            and self.proto.is_idle
            and self._head is not None
        )

    def finish(self, reusable: bool) -> None:
        """The exchange ended: back to the pool, or closed; the slot is freed either way."""
        self._request = None
        self._active = False
        self._read_due = self._total_due = None  # the timer, if armed, fires idle
        if not reusable and not self.detached:
            self.broken = True
            if self.conn is not None:
                self.conn.close() if self._body_done else self.conn.abort()
        self._on_release(self, reusable)

    def tunnel_ready(self) -> None:
        """A CONNECT tunnel now carries TLS (``self.conn``): start HTTP afresh on it."""
        self.proto = ClientConnection(limits=self._limits)
        self.requests = 0
        self._request = None
        self._reader = None
        self._head = None
        self._body_done = False
        self._read_due = None

    def detach(self) -> tuple[Connection, bytes, bool]:
        if not self.proto.switched or self.conn is None or self.lost:
            raise RuntimeError("detach() needs a connection switched by 101 or CONNECT")
        self.detached = True
        if self._timer is not None:
            self._timer.close()
            self._timer = None
        data, eof = self.proto.trailing_data
        return self.conn, data, eof


class ConnectorExchange:
    """One request/response on a :class:`PooledConnection` (``Exchange`` seam).

    ``request_info`` may be set by the session so that response errors carry its
    ``RequestInfo``, or ``for_request()`` names the ``ClientRequest`` it is then built
    from (only when an error needs it); by default it is built from the request head.
    """

    __slots__ = ("_conn", "_key", "_reader", "_released", "_reused", "request", "request_info")

    def __init__(
        self,
        conn: PooledConnection,
        sock_read: float | None,
        read_bufsize: int,
        deadline: float | None = None,
    ) -> None:
        self._conn = conn
        self._key = conn.key
        self._reused = conn.requests > 0
        self._reader = conn.start(sock_read, read_bufsize, deadline)
        self._released = False
        self.request_info: RequestInfo | None = None
        self.request: Any = None

    def for_request(self, request: Any) -> None:
        """The ``ClientRequest`` carried: its URL goes into timeout messages, and its
        ``request_info`` (made only then) into response errors."""
        self.request = request
        self._conn.url = request.url

    def __repr__(self) -> str:
        return f"<ConnectorExchange {self._key.host}:{self._key.port} reused={self._reused}>"

    @property
    def key(self) -> ConnectionKey:
        return self._key

    @property
    def reused(self) -> bool:
        return self._reused

    @property
    def content(self) -> StreamReader:
        return self._reader

    @property
    def connection(self) -> PooledConnection | None:
        """The pooled connection, None once released."""
        return None if self._released else self._conn

    @property
    def peername(self) -> Any:
        conn = self._conn.conn
        return None if conn is None else conn.peername

    @property
    def ssl_object(self) -> Any:
        conn = self._conn.conn
        return None if conn is None else conn.ssl_object

    @property
    def transport(self) -> Connection | None:
        """The backend connection (for socket options); None once released."""
        return None if self._released else self._conn.conn

    def _active(self) -> PooledConnection:
        if self._released:
            raise ClientConnectionResetError("the exchange was released or closed")
        return self._conn

    def send_head(self, head: Request) -> None:
        if self._released:
            self._active()  # raises
        self._conn.send_head(head)

    async def send_bodiless(self, head: Request) -> None:
        if self._released:
            self._active()  # raises
        await self._conn.send_bodiless(head)

    async def write(self, data: bytes) -> None:
        await self._active().write(data)

    async def end_body(self) -> None:
        if self._released:
            self._active()  # raises
        await self._conn.end_body()

    async def read_head(self) -> Response:
        if self._released:
            self._active()  # raises
        try:
            return await self._conn.read_head()
        except ClientResponseError as exc:
            info = self.request_info
            if info is None and self.request is not None:
                info = self.request.request_info
            if info is not None and type(exc) is ClientResponseError:
                raise ClientResponseError(info, (), status=exc.status, message=exc.message) from exc
            raise

    async def wait_for_100_continue(self) -> bool:
        return await self._active().wait_for_100_continue()

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        conn = self._conn
        conn.finish(conn.reusable())

    def close(self) -> None:
        if self._released:
            return
        self._released = True
        self._conn.finish(False)

    def detach(self) -> tuple[Connection, bytes, bool]:
        """After a 101 (or a 2xx to CONNECT): the raw connection and the bytes after it.

        The caller takes the connection over (``set_handler``) and calls ``close()``
        when done with it, which then only frees the pool slot.
        """
        return self._active().detach()
