"""trio connection: a reader task calling the handler, synchronous buffered writes.

Plain sockets are driven directly with non-blocking ``recv``/``send`` and
``trio.lowlevel.wait_readable/wait_writable``: ``write()`` sends at once when nothing is
queued (as an asyncio transport does) and only the remainder goes through the writer
task. TLS goes through ``trio.SSLStream``. One background task per connection runs a
nursery holding the reader (in the task itself) and the writer.
"""

from __future__ import annotations

import errno
import math
import os
import socket
from collections.abc import Iterable
from typing import Any

import trio

from .._connection import BaseConnection, logger, write_limits
from .._interface import (
    DEFAULT_HIGH_WATER,
    DEFAULT_LOW_WATER,
    ConnectionHandler,
    HandlerFactory,
    SocketLike,
    TLSInfo,
)
from ._sync import spawn_background
from ._tls import TrioTLSInfo, unwrap_broken

__all__ = ["TrioConnection"]

READ_SIZE = 64 * 1024


class TrioConnection(BaseConnection):
    """:class:`treadle.backends.Connection` on trio."""

    __slots__ = (
        "_aborted",
        "_buf",
        "_closed_event",
        "_eof_requested",
        "_eof_sent",
        "_high",
        "_inflight",
        "_low",
        "_nursery_scope",
        "_progress",
        "_reader_scope",
        "_resume_event",
        "_sendfile_active",
        "_sock",
        "_spawned",
        "_ssl_stream",
        "_tls",
        "_write_paused",
        "_writer_wakeup",
    )

    def __init__(
        self,
        sock: socket.socket,
        handler: ConnectionHandler | None,
        ssl_stream: trio.SSLStream[Any] | None = None,
    ) -> None:
        super().__init__(handler, _address(sock.getpeername), _address(sock.getsockname))
        self._sock = sock
        self._ssl_stream = ssl_stream
        self._tls = TrioTLSInfo(ssl_stream) if ssl_stream is not None else None
        self._high = DEFAULT_HIGH_WATER
        self._low = DEFAULT_LOW_WATER
        self._buf = bytearray()
        self._inflight = 0
        self._write_paused = False
        self._aborted = False
        self._eof_requested = False
        self._eof_sent = False
        self._sendfile_active = False
        self._spawned = False
        self._resume_event: trio.Event | None = None
        self._writer_wakeup: trio.Event | None = None
        self._progress: trio.Event | None = None
        self._closed_event = trio.Event()
        self._nursery_scope: trio.CancelScope | None = None
        self._reader_scope: trio.CancelScope | None = None

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Client side: give the connection to the handler, then start its task."""
        self._started = True
        self._handler.connection_made(self)
        self._spawn(None)

    def start_server(self, factory: HandlerFactory, handshake_timeout: float) -> None:
        """Server side: TLS handshake (if any) and handler creation happen in the task."""
        self._spawn(factory, handshake_timeout)

    def _spawn(self, factory: HandlerFactory | None, handshake_timeout: float = math.inf) -> None:
        self._spawned = True
        spawn_background(self._run, factory, handshake_timeout, name=f"treadle {self!r}")

    async def _run(self, factory: HandlerFactory | None, handshake_timeout: float) -> None:
        try:
            if factory is not None:
                if not await self._server_handshake(handshake_timeout):
                    return
                self._handler = factory()
                self._started = True
                self._handler.connection_made(self)
            if self._aborted:
                return
            async with trio.open_nursery() as nursery:
                self._nursery_scope = nursery.cancel_scope
                nursery.start_soon(self._writer)
                with trio.CancelScope() as self._reader_scope:
                    if not self._closing:
                        await (self._read_plain() if self._tls is None else self._read_tls())
        except Exception as exc:
            logger.exception("connection handler failed; aborting %r", self)
            if self._exc is None:
                self._exc = exc
        finally:
            self._finish()

    async def _server_handshake(self, timeout: float) -> bool:
        if self._ssl_stream is None:
            return True
        try:
            with trio.fail_after(timeout):
                await self._ssl_stream.do_handshake()
        except (trio.BrokenResourceError, trio.TooSlowError, OSError) as exc:
            logger.debug("TLS handshake with %r failed: %r", self._peername, exc)
            return False
        return True

    def _finish(self) -> None:
        if self._lost:
            return
        self._lost = True
        self._closing = True
        self._close_socket()
        self._wake_writer()
        for event in (self._progress, self._resume_event):
            if event is not None:
                event.set()
        self._closed_event.set()
        self._tell_lost()

    def _close_socket(self) -> None:
        if self._sock.fileno() >= 0:
            trio.lowlevel.notify_closing(self._sock)
            self._sock.close()

    # -- reading ----------------------------------------------------------------------

    async def _wait_resume(self) -> None:
        while not self._reading:
            event = self._resume_event = trio.Event()
            await event.wait()

    async def _read_plain(self) -> None:
        sock = self._sock
        yielded = True
        drained = False
        while True:
            if not self._reading:
                await self._wait_resume()
                yielded = True
            if drained:
                # The last read took less than it could: the socket was empty then, so
                # wait for readiness before the next recv instead of a recv that fails
                # with EAGAIN (one system call fewer per request on a keep-alive
                # connection). Readiness is level-triggered: data that came in between
                # is seen at once.
                try:
                    await trio.lowlevel.wait_readable(sock)
                except trio.ClosedResourceError:
                    return
                yielded = True
                drained = False
                if not self._reading:
                    continue
            try:
                data = sock.recv(READ_SIZE)
            except BlockingIOError:
                try:
                    await trio.lowlevel.wait_readable(sock)
                except trio.ClosedResourceError:
                    return
                yielded = True
                continue
            except OSError as exc:
                self._fail(exc)
                return
            if not yielded:
                # Data was already waiting: still let other tasks run between chunks
                # (one of which may pause reading before this chunk is delivered).
                await trio.lowlevel.checkpoint()
                if not self._reading:
                    await self._wait_resume()
            yielded = False
            drained = 0 < len(data) < READ_SIZE
            if not self._deliver(data):
                return

    async def _read_tls(self) -> None:
        stream = self._ssl_stream
        assert stream is not None
        while True:
            if not self._reading:
                await self._wait_resume()
            try:
                data = bytes(await stream.receive_some(READ_SIZE))
            except trio.ClosedResourceError:
                return
            except (trio.BrokenResourceError, OSError) as exc:
                self._fail(unwrap_broken(exc))
                return
            if not self._deliver(data):
                return

    def _deliver(self, data: bytes) -> bool:
        """Hand one read (``b""``: EOF) to the handler; False once reading must stop."""
        if not data:
            self._eof()
            return False
        try:
            self._handler.data_received(data)
        except Exception as exc:
            self._handler_failed(exc, "data_received")
            return False
        return not self._closing

    def _eof(self) -> None:
        try:
            self._handler.eof_received()
        except Exception as exc:
            self._handler_failed(exc, "eof_received")
            return
        if self._tls is not None:
            self.close()  # no half-close over TLS, as on asyncio

    # -- writing ----------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or not data:
            return
        if self._eof_requested:
            raise RuntimeError("Cannot call write() after write_eof()")
        buf = self._buf
        if not buf and self._tls is None and not self._sendfile_active:
            try:
                sent = self._sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                self._fail(exc)
                return
            if sent == len(data):
                return
            data = memoryview(data)[sent:]
        buf += data
        self._wake_writer()
        if len(buf) + self._inflight > self._high:
            self._write_paused = True

    def writelines(self, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        self.write(b"".join(chunks))

    def _wake_writer(self) -> None:
        event = self._writer_wakeup
        if event is not None:
            self._writer_wakeup = None
            event.set()

    def _progressed(self) -> None:
        if self._write_paused and len(self._buf) + self._inflight <= self._low:
            self._write_paused = False
        event = self._progress
        if event is not None:
            self._progress = None
            event.set()

    async def _wait_progress(self) -> None:
        event = self._progress
        if event is None:
            event = self._progress = trio.Event()
        await event.wait()

    async def _writer(self) -> None:
        while True:
            if self._buf and not self._sendfile_active:
                if not await (self._send_plain() if self._tls is None else self._send_tls()):
                    return
                continue
            if self._sendfile_active:
                pass
            elif self._eof_requested and not self._eof_sent:
                self._shutdown_write()
            elif self._closing:
                # Flushed: end the reader too; _finish() closes the socket. (TLS closes
                # https-compatibly, without waiting for the peer's close_notify.)
                assert self._nursery_scope is not None
                self._nursery_scope.cancel()
                return
            event = self._writer_wakeup = trio.Event()
            await event.wait()

    async def _send_plain(self) -> bool:
        try:
            await trio.lowlevel.wait_writable(self._sock)
            sent = self._sock.send(self._buf)
        except BlockingIOError:
            return True
        except trio.ClosedResourceError:
            return False
        except OSError as exc:
            self._fail(exc)
            return False
        del self._buf[:sent]
        self._progressed()
        return True

    async def _send_tls(self) -> bool:
        stream = self._ssl_stream
        assert stream is not None
        data = bytes(self._buf)
        self._buf.clear()
        self._inflight = len(data)
        try:
            await stream.send_all(data)
        except trio.ClosedResourceError:
            return False
        except (trio.BrokenResourceError, OSError) as exc:
            self._fail(unwrap_broken(exc))
            return False
        self._inflight = 0
        self._progressed()
        return True

    def _shutdown_write(self) -> None:
        self._eof_sent = True
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            self._fail(exc)

    async def drain(self) -> None:
        while self._write_paused and not self._lost:
            await self._wait_progress()
        if self._lost:
            raise ConnectionResetError("Connection lost") from self._exc

    def get_write_buffer_size(self) -> int:
        return len(self._buf) + self._inflight

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        high, low = write_limits(high, low)
        self._high, self._low = high, low
        if self.get_write_buffer_size() > high:
            self._write_paused = True
        else:
            self._progressed()

    def can_write_eof(self) -> bool:
        return self._tls is None

    def write_eof(self) -> None:
        if self._tls is not None:
            raise NotImplementedError("TLS connections cannot be half-closed; use close()")
        if self._closing or self._eof_requested:
            return
        self._eof_requested = True
        if not self._buf and not self._sendfile_active:
            self._shutdown_write()

    async def sendfile_native(self, file: Any, offset: int, count: int) -> int:
        """``os.sendfile`` on the plain socket once the buffer is flushed.

        Raises ``NotImplementedError`` before sending anything if the file or socket does
        not support it, so the caller can fall back.
        """
        if self._tls is not None:
            raise NotImplementedError("no sendfile over TLS")
        fileno = file.fileno()
        while self._buf and not self._lost:
            await self._wait_progress()
        if self._lost or self._closing:
            raise ConnectionResetError("Connection lost") from self._exc
        self._sendfile_active = True
        sent = 0
        try:
            while sent < count:
                try:
                    n = os.sendfile(self._sock.fileno(), fileno, offset + sent, count - sent)
                except BlockingIOError:
                    await trio.lowlevel.wait_writable(self._sock)
                    continue
                except OSError as exc:
                    if sent == 0 and exc.errno in _SENDFILE_UNSUPPORTED:
                        raise NotImplementedError(str(exc)) from exc
                    self._fail(exc)
                    raise
                if n == 0:
                    break  # end of file
                sent += n
                await trio.lowlevel.checkpoint()
        finally:
            self._sendfile_active = False
            self._wake_writer()
            file.seek(offset + sent)
        return sent

    # -- closing ----------------------------------------------------------------------

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._reader_scope is not None:
            self._reader_scope.cancel()
        self._wake_writer()
        if not self._spawned:
            self._finish()

    def abort(self) -> None:
        if self._lost or self._aborted:
            return
        self._aborted = True
        self._closing = True
        self._buf.clear()
        self._close_socket()
        if self._nursery_scope is not None:
            self._nursery_scope.cancel()
        if not self._spawned:
            self._finish()

    async def wait_closed(self) -> None:
        await self._closed_event.wait()

    # -- reading control and introspection ------------------------------------------

    def pause_reading(self) -> None:
        self._reading = False

    def resume_reading(self) -> None:
        self._reading = True
        event = self._resume_event
        if event is not None:
            self._resume_event = None
            event.set()

    @property
    def socket(self) -> SocketLike | None:
        return self._sock

    @property
    def ssl_object(self) -> TLSInfo | None:
        return self._tls


_SENDFILE_UNSUPPORTED = frozenset(
    {errno.EINVAL, errno.ENOTSOCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP}
)


def _address(getter: Any) -> Any:
    try:
        return getter()
    except OSError:
        return None
