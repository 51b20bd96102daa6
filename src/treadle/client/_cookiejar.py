"""The client cookie jar: aiohttp's ``CookieJar`` / ``DummyCookieJar`` on RFC 6265 rules.

The jar is plain synchronous state: it starts no task and arms no timer. Expired
cookies are dropped lazily, whenever the jar is read or written, against an injectable
wall clock (Expires is a wall-clock date, RFC 6265 5.2.1).
"""

from __future__ import annotations

import heapq
import itertools
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from http.cookies import BaseCookie, CookieError, Morsel, SimpleCookie
from typing import TypeAlias

from yarl import URL

from ._cookie_date import MAX_COOKIE_TIME, format_cookie_date, parse_cookie_date
from ._cookie_parse import parse_set_cookie_headers
from ._cookie_persist import CookieRecord, read_records, record_attrs, write_records
from ._cookie_rules import (
    MAX_COOKIE_SIZE,
    MAX_COOKIES_PER_DOMAIN,
    MAX_COOKIES_TOTAL,
    canonical_domain,
    default_path,
    domain_match,
    is_ip_address,
    is_valid_name,
    is_valid_value,
    parse_max_age,
    path_match,
)

__all__ = ["AbstractCookieJar", "ClearCookiePredicate", "CookieJar", "DummyCookieJar"]

StrOrURL: TypeAlias = str | URL
CookieValue: TypeAlias = str | Morsel[str]
LooseCookies: TypeAlias = (
    Mapping[str, CookieValue] | Iterable[tuple[str, CookieValue]] | BaseCookie[str]
)
ClearCookiePredicate: TypeAlias = Callable[[Morsel[str]], bool]

_NO_URL = URL()
_SECURE_SCHEMES = frozenset({"https", "wss"})
_QUOTER: BaseCookie[str] = SimpleCookie()  # only its value_encode (RFC 6265 quoting)
_DATE_SIZE = len(format_cookie_date(0))  # every IMF-fixdate has the same length


class AbstractCookieJar(Sized, Iterable["Morsel[str]"], ABC):
    """What a ``ClientSession`` needs from a cookie jar (aiohttp.abc.AbstractCookieJar)."""

    def __init__(self, *, loop: object = None) -> None:
        """``loop`` is accepted for subclasses written against aiohttp 3.x, and ignored."""

    @property
    @abstractmethod
    def quote_cookie(self) -> bool:
        """Whether values are sent quoted when RFC 6265 4.1.1 needs it."""

    @abstractmethod
    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        """Remove every cookie, or those ``predicate`` returns true for."""

    @abstractmethod
    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and of its subdomains."""

    @abstractmethod
    def update_cookies(self, cookies: LooseCookies, response_url: StrOrURL = _NO_URL) -> None:
        """Store cookies received from ``response_url`` (or set by the program)."""

    def update_cookies_from_headers(
        self, headers: Sequence[str], response_url: StrOrURL = _NO_URL
    ) -> None:
        """Store the cookies of raw Set-Cookie field values, parsed per RFC 6265 5.2."""
        cookies = parse_set_cookie_headers(headers)
        if cookies:
            self.update_cookies(cookies, response_url)

    @abstractmethod
    def filter_cookies(self, request_url: StrOrURL) -> BaseCookie[str]:
        """The cookies to send with a request to ``request_url``."""


class _Entry:
    """A stored cookie plus the RFC 6265 5.3 state a Morsel has no room for."""

    __slots__ = ("created", "expires", "host_only", "morsel", "sent", "serial", "used")

    def __init__(
        self, morsel: Morsel[str], host_only: bool, expires: float | None, created: int
    ) -> None:
        self.morsel = morsel
        self.host_only = host_only
        self.expires = expires
        self.created = created  # kept when a cookie is replaced (5.3 step 11.3)
        self.serial = created  # changes on every store; validates expiry heap entries
        self.used = created  # last-access order (5.4 step 3), for eviction
        self.sent: Morsel[str] | None = None  # what filter_cookies copies, built once


class CookieJar(AbstractCookieJar):
    """Cookie storage following RFC 6265, with aiohttp's ``CookieJar`` interface.

    ``unsafe=True`` accepts cookies from IP-address hosts. ``quote_cookie=False`` sends
    values exactly as stored instead of quoting them. ``treat_as_secure_origin`` lists
    origins (``"http://127.0.0.1:8080"``) that get ``Secure`` cookies over plain HTTP.
    At most ``max_cookies_per_domain`` cookies per domain and ``max_cookies`` in all are
    kept; beyond that the least recently used are evicted (RFC 6265 5.3 step 12).
    """

    max_cookie_size = MAX_COOKIE_SIZE
    max_cookies_per_domain = MAX_COOKIES_PER_DOMAIN
    max_cookies = MAX_COOKIES_TOTAL

    def __init__(
        self,
        *,
        unsafe: bool = False,
        quote_cookie: bool = True,
        treat_as_secure_origin: StrOrURL | Iterable[StrOrURL] | None = None,
        loop: object = None,  # accepted and ignored, as aiohttp 3.x deprecates it
        _clock: Callable[[], float] = time.time,
    ) -> None:
        self._unsafe = unsafe
        self._quote_cookie = quote_cookie
        self._clock = _clock
        if treat_as_secure_origin is None:
            origins: Iterable[StrOrURL] = ()
        elif isinstance(treat_as_secure_origin, str | URL):
            origins = (treat_as_secure_origin,)
        else:
            origins = treat_as_secure_origin
        self._secure_origins = frozenset(_origin(URL(o)) for o in origins) - {None}
        # domain ("" for cookies shared by every host) -> (path, name) -> entry
        self._domains: dict[str, dict[tuple[str, str], _Entry]] = {}
        self._count = 0
        self._expiry: list[tuple[float, int, str, str, str]] = []
        self._ticks = itertools.count()

    @property
    def quote_cookie(self) -> bool:
        return self._quote_cookie

    def __len__(self) -> int:
        self._drop_expired(self._clock())
        return self._count

    def __iter__(self) -> Iterator[Morsel[str]]:
        self._drop_expired(self._clock())
        snapshot = [e.morsel for bucket in self._domains.values() for e in bucket.values()]
        return iter(snapshot)

    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        if predicate is None:
            self._domains.clear()
            self._expiry.clear()
            self._count = 0
            return
        self._drop_expired(self._clock())
        for domain, bucket in list(self._domains.items()):
            for key, entry in list(bucket.items()):
                if predicate(entry.morsel):
                    self._remove(domain, key)

    def clear_domain(self, domain: str) -> None:
        target = canonical_domain(domain) or ""
        self.clear(lambda m: bool(m["domain"]) and domain_match(m["domain"], target))

    # -- storing (RFC 6265 5.3) -------------------------------------------------------

    def update_cookies(self, cookies: LooseCookies, response_url: StrOrURL = _NO_URL) -> None:
        url = URL(response_url)
        host = url.raw_host or ""
        if host and is_ip_address(host) and not self._unsafe:
            return  # aiohttp: no cookies from IP addresses unless unsafe
        now = self._clock()
        self._drop_expired(now)
        items = cookies.items() if isinstance(cookies, Mapping) else cookies
        for name, cookie in items:
            self._update_one(name, cookie, url, host, now)

    def _update_one(self, name: str, cookie: CookieValue, url: URL, host: str, now: float) -> None:
        if isinstance(cookie, Morsel):
            if cookie.key:
                name = cookie.key
            value, coded = cookie.value, cookie.coded_value
            attrs: Mapping[str, object] = cookie
        else:
            value = str(cookie)
            coded = _QUOTER.value_encode(value)[1]
            attrs = {}
        morsel = self._new_morsel(name, value, coded, attrs)
        if morsel is None:
            return
        expires = self._expiry_of(morsel, now)
        # Domain (5.3 steps 4-6): a host-only cookie unless a Domain attribute is usable.
        host_only = True
        domain = host
        attr = canonical_domain(str(morsel["domain"])) if morsel["domain"] else None
        if attr is not None:
            if not host:
                host_only, domain = False, attr  # set by the program, no origin to check
            elif "." not in attr:
                # A single-label domain such as "com" is a public suffix: only the host
                # itself may name it, and then the cookie stays host-only (step 5).
                if attr != host:
                    return
            elif domain_match(host, attr):
                host_only, domain = False, attr
            else:
                return  # a Domain the response host does not belong to (step 6)
        morsel["domain"] = domain
        # Path (5.2.4): an absent or relative Path attribute means the default-path.
        path = str(morsel["path"])
        if not path.startswith("/"):
            path = default_path(url.raw_path)
            morsel["path"] = path
        self._insert(domain, path, morsel, host_only, expires, now)

    def _new_morsel(
        self, name: str, value: str, coded: str, attrs: Mapping[str, object]
    ) -> Morsel[str] | None:
        """The jar's own Morsel; None for an RFC 6265 4.1.1 name or a value that could
        break the Cookie header."""
        if not (
            is_valid_name(name)
            and is_valid_value(value, raw=not self._quote_cookie)
            and is_valid_value(coded, raw=True)
        ):
            return None
        morsel: Morsel[str] = Morsel()
        try:
            morsel.set(name, value, coded)
            for key, attr_value in attrs.items():
                if attr_value:
                    morsel[key] = attr_value
        except CookieError:
            return None
        return morsel

    def _expiry_of(self, morsel: Morsel[str], now: float) -> float | None:
        """Max-Age wins over Expires (5.3 step 3); None for a session cookie."""
        max_age = morsel["max-age"]
        if max_age != "":
            delta = max_age if isinstance(max_age, int) else parse_max_age(str(max_age))
            if delta is not None:
                return min(now + delta, MAX_COOKIE_TIME)
            morsel["max-age"] = ""
        expires = morsel["expires"]
        if isinstance(expires, int | float) and not isinstance(expires, bool):
            return min(now + expires, MAX_COOKIE_TIME)  # Morsel's "seconds from now"
        if expires:
            deadline = parse_cookie_date(str(expires))
            if deadline is not None:
                return deadline
            morsel["expires"] = ""
        return None

    def _insert(
        self,
        domain: str,
        path: str,
        morsel: Morsel[str],
        host_only: bool,
        expires: float | None,
        now: float,
    ) -> None:
        if _size(morsel, expires) > self.max_cookie_size:  # RFC 6265 6.1
            return
        key = (path, morsel.key)
        old = self._domains.get(domain, {}).get(key)
        if expires is not None and expires <= now:
            # An expired cookie replaces and so deletes the old one (5.3 step 12).
            if old is not None:
                self._remove(domain, key)
            return
        bucket = self._domains.setdefault(domain, {})
        tick = next(self._ticks)
        entry = _Entry(morsel, host_only, expires, tick)
        if old is None:
            self._count += 1
        else:
            entry.created = old.created
        bucket[key] = entry
        if expires is not None:
            heapq.heappush(self._expiry, (expires, tick, domain, path, morsel.key))
        self._enforce_limits(domain, key)

    def _enforce_limits(self, domain: str, keep: tuple[str, str]) -> None:
        """Evict least recently used cookies over the bounds, never the one just set."""
        bucket = self._domains[domain]
        while len(bucket) > self.max_cookies_per_domain:
            victim = min((k for k in bucket if k != keep), key=lambda k: bucket[k].used)
            self._remove(domain, victim)
        while self._count > self.max_cookies:
            _, d, k = min(
                (e.used, d, k)
                for d, b in self._domains.items()
                for k, e in b.items()
                if (d, k) != (domain, keep)
            )
            self._remove(d, k)

    def _remove(self, domain: str, key: tuple[str, str]) -> None:
        bucket = self._domains[domain]
        del bucket[key]
        self._count -= 1
        if not bucket:
            del self._domains[domain]

    def _drop_expired(self, now: float) -> None:
        """Lazy expiry: pop deadlines that have passed; stale heap items are skipped."""
        heap = self._expiry
        while heap and heap[0][0] <= now:
            _, serial, domain, path, name = heapq.heappop(heap)
            entry = self._domains.get(domain, {}).get((path, name))
            if entry is not None and entry.serial == serial:
                self._remove(domain, (path, name))
        if len(heap) > 2 * self._count + 64:  # replaced cookies leave stale items
            self._expiry = [
                (e.expires, e.serial, d, p, n)
                for d, b in self._domains.items()
                for (p, n), e in b.items()
                if e.expires is not None
            ]
            heapq.heapify(self._expiry)

    # -- sending (RFC 6265 5.4) -------------------------------------------------------

    def filter_cookies(self, request_url: StrOrURL) -> BaseCookie[str]:
        result: BaseCookie[str] = SimpleCookie() if self._quote_cookie else BaseCookie()
        if not self._count:
            return result
        now = self._clock()
        self._drop_expired(now)
        url = URL(request_url)
        host = url.raw_host or ""
        secure = url.scheme in _SECURE_SCHEMES or (
            bool(self._secure_origins) and _origin(url) in self._secure_origins
        )
        request_path = url.raw_path or "/"
        domains = [""]  # cookies the program set without a URL go everywhere
        if host and is_ip_address(host):
            if self._unsafe:
                domains.append(host)
        elif host:
            labels = host.split(".")
            domains += [".".join(labels[i:]) for i in range(len(labels))]
        matched: list[tuple[str, _Entry]] = []
        for domain in domains:
            for (path, _), entry in self._domains.get(domain, {}).items():
                if domain and entry.host_only and domain != host:
                    continue
                if entry.morsel["secure"] and not secure:
                    continue
                if path_match(request_path, path):
                    matched.append((path, entry))
        # 5.4 step 2: longer paths first, then earlier creation; one value per name.
        matched.sort(key=lambda pe: (-len(pe[0]), pe[1].created))
        for _, entry in matched:
            name = entry.morsel.key
            if name in result:
                continue
            entry.used = next(self._ticks)  # 5.4 step 3: last-access-time
            if entry.sent is None:
                cookie = entry.morsel
                entry.sent = Morsel()
                coded = cookie.coded_value if self._quote_cookie else cookie.value
                entry.sent.set(name, cookie.value, coded)
            result[name] = _copy_morsel(entry.sent)
        return result

    # -- persistence --------------------------------------------------------------------

    def save(self, file_path: str | os.PathLike[str]) -> None:
        """Write the jar as JSON (not pickle, unlike aiohttp: see docs/client-cookies.md)."""
        self._drop_expired(self._clock())
        entries = [(d, p, e) for d, b in self._domains.items() for (p, _), e in b.items()]
        entries.sort(key=lambda dpe: dpe[2].created)
        records = [
            CookieRecord(
                name=e.morsel.key,
                value=e.morsel.value,
                coded_value=e.morsel.coded_value,
                domain=domain,
                path=path,
                host_only=e.host_only,
                expires=e.expires,
                attrs=record_attrs(e.morsel),
            )
            for domain, path, e in entries
        ]
        write_records(file_path, records)

    def load(self, file_path: str | os.PathLike[str]) -> None:
        """Replace the jar's contents with a file written by ``save``."""
        records = read_records(file_path)
        self.clear()
        now = self._clock()
        for r in records:
            morsel = self._new_morsel(r.name, r.value, r.coded_value, r.attrs)
            if morsel is None:
                continue
            morsel["domain"] = r.domain
            morsel["path"] = r.path if r.path.startswith("/") else "/"
            if r.expires is not None:
                morsel["expires"] = format_cookie_date(r.expires)
            self._insert(r.domain, morsel["path"], morsel, r.host_only, r.expires, now)


class DummyCookieJar(AbstractCookieJar):
    """A jar that keeps nothing: for sessions that must not carry cookies along."""

    @property
    def quote_cookie(self) -> bool:
        return True

    def __iter__(self) -> Iterator[Morsel[str]]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        pass

    def clear_domain(self, domain: str) -> None:
        pass

    def update_cookies(self, cookies: LooseCookies, response_url: StrOrURL = _NO_URL) -> None:
        pass

    def filter_cookies(self, request_url: StrOrURL) -> BaseCookie[str]:
        return SimpleCookie()


def _origin(url: URL) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) with the default port filled in; None for a relative URL."""
    if not url.absolute or not url.raw_host:
        return None
    return (url.scheme, url.raw_host, url.port)


def _copy_morsel(template: Morsel[str]) -> Morsel[str]:
    """``template.copy()`` without re-running ``Morsel.__init__``, which the copy then
    overwrites anyway: a quarter of the cost, on every cookie of every request. Each
    result gets its own Morsels, so a caller changing one cannot change the jar."""
    morsel: Morsel[str] = Morsel.__new__(Morsel)
    dict.update(morsel, template)
    morsel.__dict__.update(template.__dict__)
    return morsel


def _size(morsel: Morsel[str], expires: float | None) -> int:
    """RFC 6265 6.1 measures a cookie as its name, value and attributes together.

    Measured as stored (domain and path resolved) with the expiry counted as the
    Expires date ``load`` writes, so a cookie the jar accepted survives save/load.
    """
    parts = [morsel.key, morsel.coded_value]
    parts += [
        str(v)
        for k, v in morsel.items()
        if v and not isinstance(v, bool) and k not in ("expires", "max-age")
    ]
    size = sum(len(p.encode("utf-8", "surrogatepass")) for p in parts)
    return size if expires is None else size + _DATE_SIZE
