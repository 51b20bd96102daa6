"""TLS helpers for trio: a typed view of the session and error unwrapping."""

from __future__ import annotations

from typing import Any

import trio

__all__ = ["TrioTLSInfo", "unwrap_broken"]


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
