"""DNS resolution with an optional TTL cache, shared by every backend.

The cache logic is backend-agnostic: the lookup coroutine defaults to the running
backend's ``getaddrinfo`` and the clock is injectable, so hits and expiry are testable
without waiting on real time.
"""

from __future__ import annotations

import socket
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from ._interface import AddrInfo

__all__ = ["Resolver", "numeric_addrinfo"]

Lookup = Callable[[str, int, int], Awaitable[list[AddrInfo]]]


def numeric_addrinfo(host: str, port: int, family: int = 0) -> list[AddrInfo] | None:
    """Addrinfo for an IP literal without a thread hop, or None if ``host`` is a name."""
    for fam in (socket.AF_INET, socket.AF_INET6):
        if family not in (0, fam):
            continue
        try:
            socket.inet_pton(fam, host.partition("%")[0])
        except OSError:
            continue
        if fam == socket.AF_INET6:
            # getaddrinfo fills in flowinfo/scope_id (e.g. for fe80::1%eth0) correctly.
            if "%" in host:
                return None
            sockaddr: tuple[object, ...] = (host, port, 0, 0)
        else:
            sockaddr = (host, port)
        return [(fam, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]
    return None


async def _backend_lookup(host: str, port: int, family: int) -> list[AddrInfo]:
    from ._detect import get_backend

    return await get_backend().getaddrinfo(
        host, port, family=family, type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG
    )


class Resolver:
    """Resolve host names for TCP connections, caching answers for ``ttl`` seconds.

    ``ttl=None`` disables the cache (every call resolves). IP literals never hit DNS or
    the cache. ``lookup(host, port, family)`` and ``clock()`` are injectable for tests
    and custom resolvers. Failed lookups are not cached.
    """

    def __init__(
        self,
        ttl: float | None = None,
        *,
        lookup: Lookup | None = None,
        clock: Callable[[], float] | None = None,
        max_entries: int = 1024,
    ) -> None:
        self.ttl = ttl
        self._lookup: Lookup = lookup if lookup is not None else _backend_lookup
        self._clock = clock if clock is not None else time.monotonic
        self._max_entries = max_entries
        self._cache: OrderedDict[tuple[str, int, int], tuple[float, list[AddrInfo]]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    async def resolve(self, host: str, port: int, family: int = 0) -> list[AddrInfo]:
        numeric = numeric_addrinfo(host, port, family)
        if numeric is not None:
            return numeric
        if self.ttl is None:
            return await self._resolve_uncached(host, port, family)
        key = (host, port, family)
        entry = self._cache.get(key)
        if entry is not None:
            expires, infos = entry
            if self._clock() < expires:
                self.hits += 1
                self._cache.move_to_end(key)
                return list(infos)
            del self._cache[key]
        self.misses += 1
        infos = await self._resolve_uncached(host, port, family)
        self._cache[key] = (self._clock() + self.ttl, infos)
        if len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)
        return list(infos)

    def is_cached(self, host: str, port: int, family: int = 0) -> bool:
        """Whether ``resolve`` would answer from the cache now (for DNS cache traces)."""
        entry = self._cache.get((host, port, family))
        return entry is not None and self._clock() < entry[0]

    async def _resolve_uncached(self, host: str, port: int, family: int) -> list[AddrInfo]:
        infos = await self._lookup(host, port, family)
        if not infos:
            raise OSError(f"getaddrinfo({host!r}, {port}) returned no addresses")
        return infos

    def clear(self, host: str | None = None) -> None:
        """Forget cached answers (for ``host`` only when given)."""
        if host is None:
            self._cache.clear()
        else:
            for key in [k for k in self._cache if k[0] == host]:
                del self._cache[key]

    @property
    def cache_size(self) -> int:
        # Not __len__: an empty resolver must not be falsy ("resolver or default").
        return len(self._cache)
