"""Error types of the protocol core.

Two kinds, as in h11: a *remote* error means the peer sent something we refuse (answer it
with ``status_hint`` and close); a *local* error means our own program tried to send
something invalid (a bug, or header injection caught before it reached the wire).
"""

from __future__ import annotations

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class ProtocolError(Exception):
    """Base class of every error the protocol core raises.

    ``status_hint`` is the HTTP status a server should answer with (400 unless a more
    precise one applies: 413, 414, 431, 501, 505).
    """

    def __init__(self, message: str, *, status_hint: int = 400) -> None:
        super().__init__(message)
        self.status_hint = status_hint

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, status_hint={self.status_hint})"


class LocalProtocolError(ProtocolError):
    """Our side tried to do something HTTP/1.1 forbids; nothing was sent."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that break HTTP/1.1 or a configured limit."""
