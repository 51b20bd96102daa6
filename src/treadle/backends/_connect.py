"""Client connections and listening sockets, written once for every backend.

Resolution plus happy eyeballs (RFC 8305, simplified like trio's ``open_tcp_stream``) is
written against the :class:`Backend` interface; a backend only supplies ``sock_connect``,
the non-blocking connect of one socket. Every socket an attempt opens is closed unless it
is the one returned, whatever exception or cancellation interrupts the attempt.

:class:`SocketBackend` holds ``connect_tcp``, ``connect_unix``, ``serve_tcp`` and
``serve_unix`` themselves: a backend subclasses it and supplies the few steps that differ
(``_sock_connect``, ``_wrap_client``, ``_start_listener``).
"""

from __future__ import annotations

import socket
import ssl as _ssl
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar, cast

from ._interface import (
    AbstractResolver,
    AddrInfo,
    Backend,
    Connection,
    ConnectionHandler,
    Event,
    HandlerFactory,
    Listener,
    PeerVerifier,
)
from ._resolver import Resolver, numeric_addrinfo
from ._sockets import (
    combine_connect_errors,
    interleave_families,
    make_client_socket,
    make_tcp_listeners,
    make_unix_listener,
)
from ._tls_layer import start_tls

__all__ = ["DEFAULT_RESOLVER", "SocketBackend", "open_tcp_listeners", "open_tcp_socket"]


class ClientConnection(Connection, Protocol):
    """A backend's connection as ``_wrap_client`` returns it: not yet given to its handler."""

    def start(self) -> None:
        """Call the handler's ``connection_made`` and start reading."""
        ...


ConnT = TypeVar("ConnT", bound=ClientConnection)
ListenerT = TypeVar("ListenerT", bound=Listener)

SockConnect = Callable[[socket.socket, Any], Awaitable[None]]

#: Used when ``connect_tcp`` gets no resolver: no cache, IP literals short-circuited.
DEFAULT_RESOLVER = Resolver()


async def _attempt(
    sock_connect: SockConnect, info: AddrInfo, local_addr: tuple[str, int] | None
) -> socket.socket:
    sock = make_client_socket(info, local_addr)
    try:
        await sock_connect(sock, info[4])
    except BaseException:
        sock.close()
        raise
    return sock


async def open_tcp_socket(
    backend: Backend,
    sock_connect: SockConnect,
    host: str,
    port: int,
    *,
    family: int,
    local_addr: tuple[str, int] | None,
    delay: float | None,
    resolver: AbstractResolver | None,
) -> socket.socket:
    """A connected non-blocking socket to the first of ``host``'s addresses that answers.

    Attempts start ``delay`` seconds apart (or as soon as the previous one fails);
    ``delay=None`` tries addresses one after the other. The first success cancels the
    others.
    """
    infos = await (DEFAULT_RESOLVER if resolver is None else resolver).resolve(host, port, family)
    infos = interleave_families(infos)
    if len(infos) == 1:
        return await _attempt(sock_connect, infos[0], local_addr)
    errors: list[OSError] = []
    if delay is None:
        for info in infos:
            try:
                return await _attempt(sock_connect, info, local_addr)
            except OSError as exc:
                errors.append(exc)
        raise combine_connect_errors(errors, host, port)
    return await _happy_eyeballs(backend, sock_connect, infos, host, port, local_addr, delay)


async def _happy_eyeballs(
    backend: Backend,
    sock_connect: SockConnect,
    infos: list[AddrInfo],
    host: str,
    port: int,
    local_addr: tuple[str, int] | None,
    delay: float,
) -> socket.socket:
    winner: socket.socket | None = None
    errors: list[OSError] = []
    wakeup: Event = backend.create_event()

    async def run_one(info: AddrInfo, failed: Event) -> None:
        nonlocal winner
        try:
            sock = await _attempt(sock_connect, info, local_addr)
        except OSError as exc:
            errors.append(exc)
            failed.set()
            return
        if winner is None:
            winner = sock
            group.cancel()
            wakeup.set()
        else:
            sock.close()

    try:
        async with backend.task_group() as group:
            for info in infos:
                failed = wakeup = backend.create_event()
                group.start_soon(run_one, info, failed)
                try:
                    with backend.fail_after(delay):
                        await wakeup.wait()
                except TimeoutError:
                    pass
                if winner is not None:
                    break
    except BaseException:
        if winner is not None:
            winner.close()
        raise
    if winner is None:
        raise combine_connect_errors(errors, host, port)
    return winner


async def open_tcp_listeners(
    backend: Backend,
    host: str | Sequence[str] | None,
    port: int,
    *,
    family: int,
    backlog: int,
    reuse_port: bool,
    reuse_address: bool,
) -> list[socket.socket]:
    """Listening sockets for ``host`` (None: all interfaces), resolving names first.

    Names are resolved through the backend (cancellable, nothing to leak); binding is
    then done synchronously on IP literals, so a cancellation never strands a socket.
    """
    hosts = [host] if host is None or isinstance(host, str) else list(host)
    literal: list[str | None] = []
    for h in hosts:
        if h is None or h == "" or numeric_addrinfo(h, port) is not None:
            literal.append(h or None)
            continue
        infos = await backend.getaddrinfo(
            h, port, family=family, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        literal.extend(str(info[4][0]) for info in infos if str(info[4][0]) not in literal)
    return make_tcp_listeners(
        literal[0] if len(literal) == 1 else [h for h in literal if h is not None] or None,
        port,
        family=family,
        backlog=backlog,
        reuse_port=reuse_port,
        reuse_address=reuse_address,
    )


class SocketBackend(Generic[ConnT, ListenerT]):
    """``connect_*`` and ``serve_tcp``/``serve_unix`` of a backend, written once.

    Subclasses implement :meth:`_sock_connect`, :meth:`_wrap_client` and
    :meth:`_start_listener`; the last two own the sockets they are given and must close
    them (or what was made from them) if they fail. The peer check and the start of a
    client connection are done here, the same way for every backend.
    """

    async def _checkpoint_if_cancelled(self) -> None:
        """Raise if the caller is already cancelled, before ``serve_*`` opens a socket.

        trio's convention for every async call; a no-op by default (asyncio delivers
        cancellation at the next real suspension).
        """

    @staticmethod
    async def _sock_connect(sock: socket.socket, address: Any) -> None:
        """Connect the non-blocking ``sock`` to ``address`` (cancellable)."""
        raise NotImplementedError

    async def _wrap_client(
        self,
        sock: socket.socket,
        handler: ConnectionHandler,
        ssl: _ssl.SSLContext | None,
        server_hostname: str | None,
    ) -> ConnT:
        """The connection on ``sock``, after the TLS handshake, not started yet."""
        raise NotImplementedError

    async def _start_client(
        self,
        sock: socket.socket,
        handler: ConnectionHandler,
        ssl: _ssl.SSLContext | None,
        server_hostname: str | None,
        verify_peer: PeerVerifier | None,
    ) -> ConnT:
        """Wrap ``sock``, check the peer, then hand the connection to ``handler``.

        A rejected peer (or a failing ``connection_made``) aborts the connection; the
        handler never sees a peer that ``verify_peer`` refused.
        """
        conn = await self._wrap_client(sock, handler, ssl, server_hostname)
        try:
            ssl_object = conn.ssl_object
            if verify_peer is not None and ssl_object is not None:
                verify_peer.check(ssl_object)
            conn.start()
        except BaseException:
            conn.abort()
            raise
        return conn

    async def _start_listener(
        self,
        handler_factory: HandlerFactory,
        sockets: list[socket.socket],
        *,
        ssl: _ssl.SSLContext | None,
        backlog: int,
        unix: bool = False,
    ) -> ListenerT:
        """Accept connections on the bound ``sockets`` (``unix``: remove their files on close)."""
        raise NotImplementedError

    async def connect_tcp(
        self,
        handler: ConnectionHandler,
        host: str,
        port: int,
        *,
        ssl: _ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        local_addr: tuple[str, int] | None = None,
        family: int = 0,
        happy_eyeballs_delay: float | None = 0.25,
        verify_peer: PeerVerifier | None = None,
        resolver: AbstractResolver | None = None,
    ) -> ConnT:
        sock = await open_tcp_socket(
            cast(Backend, self),  # every subclass is a complete Backend
            self._sock_connect,
            host,
            port,
            family=family,
            local_addr=local_addr,
            delay=happy_eyeballs_delay,
            resolver=resolver,
        )
        if ssl is not None and server_hostname is None:
            server_hostname = host
        return await self._start_client(sock, handler, ssl, server_hostname, verify_peer)

    async def connect_unix(
        self,
        handler: ConnectionHandler,
        path: str,
        *,
        ssl: _ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        verify_peer: PeerVerifier | None = None,
    ) -> ConnT:
        if ssl is not None and server_hostname is None and ssl.check_hostname:
            raise ValueError("server_hostname is required for TLS over a Unix socket")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            await self._sock_connect(sock, path)
        except BaseException:
            sock.close()
            raise
        return await self._start_client(sock, handler, ssl, server_hostname, verify_peer)

    async def start_tls(
        self,
        conn: Connection,
        ssl: _ssl.SSLContext,
        *,
        server_side: bool = False,
        server_hostname: str | None = None,
        verify_peer: PeerVerifier | None = None,
    ) -> Connection:
        return await start_tls(
            cast(Backend, self),
            conn,
            ssl,
            server_side=server_side,
            server_hostname=server_hostname,
            verify_peer=verify_peer,
        )

    async def serve_tcp(
        self,
        handler_factory: HandlerFactory,
        host: str | Sequence[str] | None,
        port: int,
        *,
        ssl: _ssl.SSLContext | None = None,
        backlog: int = 100,
        reuse_port: bool = False,
        reuse_address: bool = True,
        family: int = 0,
    ) -> ListenerT:
        await self._checkpoint_if_cancelled()
        sockets = await open_tcp_listeners(
            cast(Backend, self),
            host,
            port,
            family=family,
            backlog=backlog,
            reuse_port=reuse_port,
            reuse_address=reuse_address,
        )
        return await self._start_listener(handler_factory, sockets, ssl=ssl, backlog=backlog)

    async def serve_unix(
        self,
        handler_factory: HandlerFactory,
        path: str,
        *,
        ssl: _ssl.SSLContext | None = None,
        backlog: int = 100,
    ) -> ListenerT:
        await self._checkpoint_if_cancelled()
        sock = make_unix_listener(path, backlog)
        return await self._start_listener(
            handler_factory, [sock], ssl=ssl, backlog=backlog, unix=True
        )
