"""Plain-socket set-up shared by both backends: client sockets and listening sockets.

Both backends create their sockets here, so options (TCP_NODELAY, SO_REUSEADDR,
SO_REUSEPORT, IPV6_V6ONLY, stale Unix socket removal) behave the same everywhere.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from collections.abc import Sequence
from typing import Any

from ._interface import AddrInfo

__all__ = [
    "combine_connect_errors",
    "interleave_families",
    "make_client_socket",
    "make_tcp_listeners",
    "make_unix_listener",
    "remove_unix_socket",
    "set_nodelay",
    "unix_socket_files",
]


def set_nodelay(sock: socket.socket) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def make_client_socket(info: AddrInfo, local_addr: tuple[str, int] | None) -> socket.socket:
    """A non-blocking socket for ``info``, bound to ``local_addr`` when given."""
    family, type_, proto, _, _ = info
    sock = socket.socket(family, type_, proto)
    try:
        sock.setblocking(False)
        set_nodelay(sock)
        if local_addr is not None:
            sock.bind(local_addr)
    except BaseException:
        sock.close()
        raise
    return sock


def interleave_families(infos: Sequence[AddrInfo]) -> list[AddrInfo]:
    """RFC 8305 ordering: keep the resolver's first family first, then alternate."""
    if not infos:
        return []
    first_family = infos[0][0]
    first = [i for i in infos if i[0] == first_family]
    other = [i for i in infos if i[0] != first_family]
    out: list[AddrInfo] = []
    for index in range(max(len(first), len(other))):
        if index < len(first):
            out.append(first[index])
        if index < len(other):
            out.append(other[index])
    return out


def combine_connect_errors(errors: Sequence[OSError], host: str, port: int) -> OSError:
    """One error for a failed multi-address connect; keeps the type when all agree."""
    if len(errors) == 1:
        return errors[0]
    first = errors[0]
    if all(type(e) is type(first) and e.errno == first.errno for e in errors):
        return first
    detail = "; ".join(str(e) for e in errors)
    return OSError(f"could not connect to {host}:{port} on any address: {detail}")


def make_tcp_listeners(
    host: str | Sequence[str] | None,
    port: int,
    *,
    family: int = 0,
    backlog: int,
    reuse_port: bool,
    reuse_address: bool,
) -> list[socket.socket]:
    """Bound, listening, non-blocking sockets for every address ``host`` resolves to.

    ``host=None`` means all interfaces (IPv4 and IPv6 when available). This is called
    once per server start, so the blocking resolution happens in a thread by the caller
    when ``host`` is a name.
    """
    hosts: list[str | None] = (
        [host] if host is None or isinstance(host, str) else list(host) or [None]
    )
    infos: list[AddrInfo] = []
    for h in hosts:
        for info in socket.getaddrinfo(
            h, port, family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE | socket.AI_ADDRCONFIG
        ):
            if info not in infos:
                infos.append(info)
    if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
        raise ValueError("reuse_port=True is not supported on this platform")
    sockets: list[socket.socket] = []
    chosen_port = port
    try:
        for fam, type_, proto, _, sockaddr in infos:
            if chosen_port != port:
                sockaddr = (sockaddr[0], chosen_port, *sockaddr[2:])
            try:
                sock = socket.socket(fam, type_, proto)
            except OSError:
                if host is None:  # e.g. IPv6 disabled in this container: skip that family
                    continue
                raise
            sockets.append(sock)
            if reuse_address and os.name == "posix":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if fam == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                # Dual-stack servers bind both families separately, as asyncio does.
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(sockaddr)
            except OSError as exc:
                raise OSError(
                    exc.errno,
                    f"error while attempting to bind on address {sockaddr!r}: {exc.strerror}",
                ) from None
            sock.listen(backlog)
            sock.setblocking(False)
            if chosen_port == 0:
                # Same free port on every address, so "port 0" yields one usable port.
                chosen_port = sock.getsockname()[1]
        if not sockets:
            raise OSError(f"could not bind any address for host={host!r} port={port}")
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def make_unix_listener(path: str, backlog: int) -> socket.socket:
    """A listening Unix socket at ``path``, replacing a stale socket file left behind."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.remove(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def unix_socket_files(sockets: Sequence[socket.socket]) -> list[tuple[str, int]]:
    """``(path, inode)`` of the socket files ``sockets`` are bound to (abstract ones have none).

    The inode lets :func:`remove_unix_socket` leave alone a file someone else put there.
    """
    files = []
    for sock in sockets:
        path = sock.getsockname()
        if isinstance(path, str) and path and not path.startswith("\0"):
            files.append((path, os.stat(path).st_ino))
    return files


def remove_unix_socket(sock_path: Any, inode: int | None) -> None:
    """Unlink the socket file we created, unless someone else replaced it since."""
    if not isinstance(sock_path, str) or not sock_path or sock_path.startswith("\0"):
        return
    with contextlib.suppress(OSError):
        st = os.stat(sock_path)
        if stat.S_ISSOCK(st.st_mode) and (inode is None or st.st_ino == inode):
            os.remove(sock_path)
