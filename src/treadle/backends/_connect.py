"""Opening a connected TCP socket: resolution plus happy-eyeballs, for every backend.

The algorithm (RFC 8305, simplified like trio's ``open_tcp_stream``) is written once
against the :class:`Backend` interface; a backend only supplies ``sock_connect``, the
non-blocking connect of one socket. Every socket an attempt opens is closed unless it
is the one returned, whatever exception or cancellation interrupts the attempt.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ._interface import AbstractResolver, AddrInfo, Backend, Event
from ._resolver import Resolver, numeric_addrinfo
from ._sockets import (
    combine_connect_errors,
    interleave_families,
    make_client_socket,
    make_tcp_listeners,
)

__all__ = ["DEFAULT_RESOLVER", "open_tcp_listeners", "open_tcp_socket"]

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
