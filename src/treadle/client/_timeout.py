"""``ClientTimeout``: the four timeouts of a request, as aiohttp 3.x defines them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["DEFAULT_TIMEOUT", "ClientTimeout"]


@dataclass(frozen=True, slots=True)
class ClientTimeout:
    """Timeouts in seconds; ``None`` (or 0) disables one.

    - ``total``: the whole request, from taking a connection to the end of the body.
    - ``connect``: getting a connection, including the wait for a free pool slot.
    - ``sock_connect``: each single connection attempt (TCP connect plus TLS handshake).
    - ``sock_read``: the longest pause between two reads from the server.

    ``ceil_threshold`` is accepted for aiohttp compatibility: aiohttp rounds deadlines
    above it up to whole seconds to batch its timer handles; treadle's timers are
    re-armed deadlines, so it has no effect. Make a per-request variant with
    ``dataclasses.replace(timeout, sock_read=5)``.
    """

    total: float | None = None
    connect: float | None = None
    sock_read: float | None = None
    sock_connect: float | None = None
    ceil_threshold: float = 5


#: aiohttp's default: five minutes for the whole request, 30 s per connection attempt.
DEFAULT_TIMEOUT: Final[ClientTimeout] = ClientTimeout(total=5 * 60, sock_connect=30)
