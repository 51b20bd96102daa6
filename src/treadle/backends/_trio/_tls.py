"""TLS helpers for trio: the stream, a typed view of the session and error unwrapping."""

from __future__ import annotations

import socket
import ssl as _ssl
from typing import Any

import trio

__all__ = ["TrioTLSInfo", "ssl_stream", "unwrap_broken"]


def ssl_stream(
    sock: socket.socket,
    ssl: _ssl.SSLContext,
    *,
    server_side: bool = False,
    server_hostname: str | None = None,
) -> trio.SSLStream[trio.SocketStream]:
    """TLS over a stdlib socket, client or server; closes https-compatibly.

    https-compatible: no ``close_notify`` is sent on close or required from the peer.
    """
    return trio.SSLStream(
        trio.SocketStream(trio.socket.from_stdlib_socket(sock)),
        ssl,
        server_side=server_side,
        server_hostname=server_hostname,
        https_compatible=True,
    )


def unwrap_broken(exc: BaseException) -> BaseException:
    """trio wraps socket/TLS errors in BrokenResourceError; surface the real cause."""
    if isinstance(exc, trio.BrokenResourceError) and isinstance(exc.__cause__, OSError):
        return exc.__cause__
    return exc


class TrioTLSInfo:
    """Typed view of an ``SSLStream``'s session (what asyncio's ``ssl_object`` offers)."""

    __slots__ = ("_stream",)

    def __init__(self, stream: trio.SSLStream[Any]) -> None:
        self._stream = stream

    def getpeercert(self, binary_form: bool = False) -> Any:
        return self._stream.getpeercert(binary_form)

    def cipher(self) -> tuple[str, str, int] | None:
        result: tuple[str, str, int] | None = self._stream.cipher()
        return result

    def version(self) -> str | None:
        result: str | None = self._stream.version()
        return result

    def selected_alpn_protocol(self) -> str | None:
        result: str | None = self._stream.selected_alpn_protocol()
        return result
