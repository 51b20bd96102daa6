"""TLS started on an established connection (after a proxy's CONNECT, or STARTTLS).

Written once for every backend over the :class:`Connection` interface, with
``ssl.MemoryBIO``: :class:`TLSConnection` becomes the plain connection's handler,
decrypts what it receives for the application's handler and encrypts what the
application writes. The same code therefore runs on asyncio, uvloop and trio, and over
a connection that is itself TLS (a tunnel through an https proxy).
"""

from __future__ import annotations

import ssl as _ssl
from collections.abc import Iterable
from typing import Any, cast

from ._connection import logger
from ._interface import (
    Backend,
    Connection,
    ConnectionHandler,
    Event,
    PeerVerifier,
    SocketLike,
    TLSInfo,
)

__all__ = ["TLSConnection", "start_tls"]

READ_SIZE = 64 * 1024


async def start_tls(
    backend: Backend,
    conn: Connection,
    ssl: _ssl.SSLContext,
    *,
    server_side: bool = False,
    server_hostname: str | None = None,
    verify_peer: PeerVerifier | None = None,
) -> TLSConnection:
    """Run the TLS handshake over ``conn`` and return the TLS connection on top of it.

    ``conn``'s handler keeps receiving callbacks, now with decrypted data, through the
    returned connection (write to that one from now on); its ``connection_made`` is
    called again with the TLS connection first. On failure or cancellation ``conn`` is
    aborted and the error propagates.
    """
    tls = TLSConnection(backend, conn, ssl, server_side, server_hostname)
    try:
        await tls.handshake()
        ssl_object = tls.ssl_object
        if verify_peer is not None:
            verify_peer.check(ssl_object)
    except BaseException:
        tls.fail()
        raise
    tls.start()
    return tls


class TLSConnection:
    """:class:`Connection` speaking TLS over another connection, via memory BIOs."""

    __slots__ = (
        "_backend",
        "_closing",
        "_delivering",
        "_eof",
        "_handler",
        "_handshaking",
        "_incoming",
        "_inner",
        "_lost",
        "_lost_exc",
        "_outgoing",
        "_progress",
        "_reading",
        "_sslobj",
    )

    def __init__(
        self,
        backend: Backend,
        inner: Connection,
        context: _ssl.SSLContext,
        server_side: bool,
        server_hostname: str | None,
    ) -> None:
        self._backend = backend
        self._inner = inner
        self._handler: ConnectionHandler = inner.handler
        self._incoming = _ssl.MemoryBIO()
        self._outgoing = _ssl.MemoryBIO()
        self._sslobj = context.wrap_bio(
            self._incoming,
            self._outgoing,
            server_side=server_side,
            server_hostname=None if server_side else server_hostname,
        )
        self._handshaking = True
        self._progress: Event | None = None
        self._eof = False
        self._lost = False
        self._lost_exc: BaseException | None = None
        self._closing = False
        self._reading = True
        self._delivering = False
        inner.set_handler(self)

    def __repr__(self) -> str:
        return f"<TLSConnection over {self._inner!r}>"

    # -- handshake ---------------------------------------------------------------------

    async def handshake(self) -> None:
        self._inner.resume_reading()
        while True:
            try:
                self._sslobj.do_handshake()
                break
            except _ssl.SSLWantReadError:
                pass
            self._flush()
            if self._lost or self._eof:
                raise ConnectionResetError(
                    "the connection closed during the TLS handshake"
                ) from self._lost_exc
            event = self._progress = self._backend.create_event()
            await event.wait()
        self._flush()
        self._handshaking = False

    def start(self) -> None:
        """Announce the TLS connection to the handler, then deliver data already here.

        The handler's ``connection_made`` runs again, with this connection, so it can
        write through TLS before any decrypted data reaches it.
        """
        self._handler.connection_made(self)
        if not self._reading:
            self._inner.pause_reading()
        self._deliver()

    def fail(self) -> None:
        """The handshake failed: abort, and give the handler back its connection_lost."""
        handler = self._handler
        if self._lost:
            handler.connection_lost(self._lost_exc)
        else:
            self._inner.set_handler(handler)
            self._inner.abort()

    def _wake(self) -> None:
        event = self._progress
        if event is not None:
            self._progress = None
            event.set()

    # -- the inner connection's handler ------------------------------------------------

    def connection_made(self, conn: Connection) -> None:  # pragma: no cover - set later
        pass

    def data_received(self, data: bytes) -> None:
        self._incoming.write(data)
        if self._handshaking:
            self._wake()
        else:
            self._deliver()

    def eof_received(self) -> None:
        self._eof = True
        self._incoming.write_eof()
        if self._handshaking:
            self._wake()
            return
        self._deliver()
        if not self._lost:
            self._handler.eof_received()
            self.close()  # TLS has no half-close

    def connection_lost(self, exc: BaseException | None) -> None:
        self._lost = True
        self._lost_exc = exc
        if self._handshaking:
            self._wake()
            return
        self._handler.connection_lost(exc)

    def _deliver(self) -> None:
        """Hand decrypted data to the application while it is reading."""
        if self._delivering:
            return
        self._delivering = True
        try:
            while self._reading and not self._closing:
                try:
                    chunk = self._sslobj.read(READ_SIZE)
                except (_ssl.SSLWantReadError, _ssl.SSLZeroReturnError):
                    break
                except _ssl.SSLError as exc:
                    logger.debug("TLS error on %r: %r", self, exc)
                    self._inner.abort()
                    break
                if not chunk:
                    break
                self._handler.data_received(chunk)
        finally:
            self._delivering = False
        self._flush()

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self._inner.write(data)

    # -- Connection ----------------------------------------------------------------------

    @property
    def handler(self) -> ConnectionHandler:
        return self._handler

    def set_handler(self, handler: ConnectionHandler) -> None:
        self._handler = handler

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or self._lost or not data:
            return
        try:
            self._sslobj.write(data)
        except _ssl.SSLError as exc:
            logger.debug("TLS write failed on %r: %r", self, exc)
            self._inner.abort()
            return
        self._flush()

    def writelines(self, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        self.write(b"".join(chunks))

    async def drain(self) -> None:
        await self._inner.drain()

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._inner.set_write_buffer_limits(high, low)

    def can_write_eof(self) -> bool:
        return False

    def write_eof(self) -> None:
        raise NotImplementedError("TLS connections cannot be half-closed; use close()")

    def close(self) -> None:
        # https-compatible, as the backends' own TLS: no close_notify round trip.
        self._closing = True
        self._inner.close()

    def abort(self) -> None:
        self._closing = True
        self._inner.abort()

    def is_closing(self) -> bool:
        return self._closing or self._inner.is_closing()

    async def wait_closed(self) -> None:
        await self._inner.wait_closed()

    def pause_reading(self) -> None:
        self._reading = False
        self._inner.pause_reading()

    def resume_reading(self) -> None:
        if self._reading:
            return
        self._reading = True
        self._inner.resume_reading()
        self._deliver()

    def is_reading(self) -> bool:
        return self._reading and not self.is_closing()

    @property
    def peername(self) -> Any:
        return self._inner.peername

    @property
    def sockname(self) -> Any:
        return self._inner.sockname

    @property
    def socket(self) -> SocketLike | None:
        return self._inner.socket

    @property
    def ssl_object(self) -> TLSInfo:
        return cast(TLSInfo, self._sslobj)

    @property
    def inner(self) -> Connection:
        """The connection the TLS records travel over."""
        return self._inner
