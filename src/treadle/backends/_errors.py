"""Errors raised by the backends layer."""

from __future__ import annotations

__all__ = ["ServerFingerprintMismatch", "UnsupportedAsyncLibraryError"]


class UnsupportedAsyncLibraryError(RuntimeError):
    """Raised when treadle is used outside an event loop or under a library it cannot drive.

    It is a RuntimeError so code that already guards against "no running event loop"
    keeps working.
    """


class ServerFingerprintMismatch(ConnectionError):
    """The peer's certificate does not hash to the pinned fingerprint.

    The connection has already been aborted when this is raised.
    """

    def __init__(
        self, expected: bytes, got: bytes, host: str | None = None, port: int | None = None
    ):
        self.expected = expected
        self.got = got
        self.host = host
        self.port = port
        where = f" for {host}:{port}" if host is not None else ""
        super().__init__(
            f"TLS certificate fingerprint mismatch{where}: expected sha256 {expected.hex()}, "
            f"got {got.hex()}; the server certificate is not the pinned one"
        )
