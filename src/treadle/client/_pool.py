"""The connection pool's bookkeeping: slots, idle connections and the waiting line.

Plain synchronous state, no I/O and no await: the connector does the DNS lookups,
connects and handshakes outside it, so no pool invariant can be broken by a
cancellation in the middle of an update.

A *slot* is one connection in use (handed to a request, or being opened for one).
``limit`` bounds slots in total and ``limit_per_host`` per connection key (0: no bound),
as aiohttp's ``TCPConnector`` does. Idle keep-alive connections hold no slot, but the
connector closes the oldest of them to keep open sockets within ``limit``. When a slot
is freed it is handed straight to the first waiter that may use it (FIFO), so a request
arriving later cannot overtake one that waits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

__all__ = ["Pool", "Waiter"]

K = TypeVar("K", bound=Hashable)


class Pooled(Protocol):
    """What the pool keeps idle: something it can ask whether it still works."""

    @property
    def usable(self) -> bool: ...


C = TypeVar("C", bound=Pooled)


class Waiter(Generic[K]):
    """One request waiting for a slot; ``granted`` once the slot is reserved for it."""

    __slots__ = ("granted", "key", "wake")

    def __init__(self, key: K, wake: Callable[[], None]) -> None:
        self.key = key
        self.wake = wake
        self.granted = False


class Pool(Generic[K, C]):
    """Slots per key and in total, idle connections per key, and FIFO waiters."""

    def __init__(self, limit: int, limit_per_host: int) -> None:
        if limit < 0 or limit_per_host < 0:
            raise ValueError("limit and limit_per_host must be >= 0 (0: no limit)")
        self.limit = limit
        self.limit_per_host = limit_per_host
        self.in_use = 0
        self._in_use_per_key: dict[K, int] = {}
        # Idle connections per key, oldest first, each with its expiry time.
        self._idle: dict[K, deque[tuple[C, float]]] = {}
        self.idle_count = 0
        self._waiters: deque[Waiter[K]] = deque()

    # -- slots ---------------------------------------------------------------------

    def _has_room(self, key: K) -> bool:
        if self.limit and self.in_use >= self.limit:
            return False
        return not (self.limit_per_host and self._in_use_per_key.get(key, 0) >= self.limit_per_host)

    def _take_slot(self, key: K) -> None:
        self.in_use += 1
        self._in_use_per_key[key] = self._in_use_per_key.get(key, 0) + 1

    def try_acquire(self, key: K) -> bool:
        """Take a slot for ``key`` now if one is free and nobody waits for one."""
        if self._has_room(key) and not self._has_eligible_waiter():
            self._take_slot(key)
            return True
        return False

    def _has_eligible_waiter(self) -> bool:
        # Only waiters that could use a free slot block newcomers (a waiter held back by
        # its own per-host cap must not starve other hosts).
        if not self._waiters:
            return False
        return any(self._has_room(w.key) for w in self._waiters if not w.granted)

    def enqueue(self, key: K, wake: Callable[[], None]) -> Waiter[K]:
        """Wait in line for a slot for ``key``; ``wake`` is called when it is granted."""
        waiter = Waiter(key, wake)
        self._waiters.append(waiter)
        return waiter

    def cancel_waiter(self, waiter: Waiter[K]) -> None:
        """The waiter gave up: leave the line, or give back the slot it was granted."""
        if waiter.granted:
            self.release(waiter.key)
            return
        if waiter in self._waiters:
            self._waiters.remove(waiter)

    def release(self, key: K) -> None:
        """Free a slot of ``key`` and hand free slots to waiters, first come first served."""
        count = self._in_use_per_key[key] - 1
        if count:
            self._in_use_per_key[key] = count
        else:
            del self._in_use_per_key[key]
        self.in_use -= 1
        self._grant()

    def _grant(self) -> None:
        waiters = self._waiters
        if not waiters:
            return
        for waiter in list(waiters):
            if self.limit and self.in_use >= self.limit:
                return
            if self._has_room(waiter.key):
                waiters.remove(waiter)
                self._take_slot(waiter.key)
                waiter.granted = True
                waiter.wake()

    def wake_all_waiters(self) -> None:
        """Wake every waiter without a slot (the connector is closing)."""
        waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            waiter.wake()

    def in_use_for(self, key: K) -> int:
        return self._in_use_per_key.get(key, 0)

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    # -- idle connections --------------------------------------------------------------

    def put_idle(self, key: K, conn: C, expires: float) -> None:
        self._idle.setdefault(key, deque()).append((conn, expires))
        self.idle_count += 1

    def has_idle(self, key: K) -> bool:
        """Whether ``key`` has idle connections (usable or not: ``take_idle`` sorts)."""
        return key in self._idle  # keys with no idle connection are deleted

    def take_idle(self, key: K, now: float) -> tuple[C | None, list[C]]:
        """The newest usable idle connection of ``key``, and the dead or expired ones.

        The caller closes the second list. The newest connection is taken (LIFO), so
        the older ones are the first to expire when traffic drops.
        """
        idle = self._idle.get(key)
        if not idle:
            return None, []
        stale: list[C] = []
        found: C | None = None
        while idle:
            conn, expires = idle.pop()
            self.idle_count -= 1
            if expires > now and conn.usable:
                found = conn
                break
            stale.append(conn)
        # Expired connections further down the line go too.
        while idle and (idle[0][1] <= now or not idle[0][0].usable):
            stale.append(idle.popleft()[0])
            self.idle_count -= 1
        if not idle:
            del self._idle[key]
        return found, stale

    def remove_idle(self, key: K, conn: C) -> bool:
        """Forget ``conn`` (it closed while idle); False if it was not idle."""
        idle = self._idle.get(key)
        if not idle:
            return False
        for i, (c, _) in enumerate(idle):
            if c is conn:
                del idle[i]
                self.idle_count -= 1
                if not idle:
                    del self._idle[key]
                return True
        return False

    def pop_oldest_idle(self) -> C | None:
        """The idle connection that expires first, of any key (to make room under limit)."""
        best: K | None = None
        best_expiry = 0.0
        for key, idle in self._idle.items():
            if best is None or idle[0][1] < best_expiry:
                best, best_expiry = key, idle[0][1]
        if best is None:
            return None
        idle = self._idle[best]
        conn = idle.popleft()[0]
        self.idle_count -= 1
        if not idle:
            del self._idle[best]
        return conn

    def pop_expired(self, now: float) -> list[C]:
        """Every idle connection past its expiry or no longer usable."""
        out: list[C] = []
        for key in list(self._idle):
            idle = self._idle[key]
            keep = deque((c, e) for c, e in idle if e > now and c.usable)
            out.extend(c for c, e in idle if not (e > now and c.usable))
            self.idle_count -= len(idle) - len(keep)
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]
        return out

    def pop_all_idle(self) -> list[C]:
        out = [c for idle in self._idle.values() for c, _ in idle]
        self._idle.clear()
        self.idle_count = 0
        return out
