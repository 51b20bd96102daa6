"""The matching rules of RFC 6265 and the jar's limits, as small pure functions.

Kept apart from the jar so each rule can be read against its RFC section and tested
alone (the hypothesis property in the tests checks the jar against them).
"""

from __future__ import annotations

import functools
import ipaddress
import re

__all__ = [
    "MAX_COOKIES_PER_DOMAIN",
    "MAX_COOKIES_TOTAL",
    "MAX_COOKIE_SIZE",
    "canonical_domain",
    "default_path",
    "domain_match",
    "is_ip_address",
    "is_valid_name",
    "is_valid_value",
    "parse_max_age",
    "path_match",
]

# RFC 6265 6.1 asks for at least 4096 bytes per cookie, 50 per domain and 3000 in total.
# Browsers keep 180 per domain (Chromium) and 3000 in total; a server setting more than
# that evicts the least recently used cookies rather than growing the jar without bound.
MAX_COOKIE_SIZE = 4096
MAX_COOKIES_PER_DOMAIN = 180
MAX_COOKIES_TOTAL = 3000

# RFC 9110 5.6.2 token, plus ":" which http.cookies.Morsel also accepts in a name.
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~:0-9A-Za-z]+")
# Control characters never reach a header: they would split it or corrupt it.
_CTL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_AGE = re.compile(r"-?[0-9]+")


def is_valid_name(name: str) -> bool:
    """RFC 6265 4.1.1: cookie-name is a token."""
    return _NAME.fullmatch(name) is not None


def is_valid_value(value: str, *, raw: bool) -> bool:
    """No control characters; sent unquoted (``raw``), no ``;`` that would end it early."""
    if _CTL.search(value):
        return False
    return not (raw and ";" in value)


@functools.lru_cache(maxsize=512)
def is_ip_address(host: str) -> bool:
    """IPv4 or IPv6 literal (yarl gives IPv6 hosts without brackets).

    Asked on every request and response, mostly about the same few hosts; a failed
    ``ip_address`` costs two exceptions, so answers are cached.
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def canonical_domain(value: str) -> str | None:
    """RFC 6265 5.2.3 and 5.1.2: lower-case, no leading dot, IDNA-encoded; None if unusable.

    A Domain attribute ending in ``.`` is ignored, as aiohttp does (the cookie stays
    host-only).
    """
    if value.startswith("."):
        value = value[1:]
    if not value or value.endswith("."):
        return None
    if not value.isascii():
        try:
            value = value.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return value.lower()


def domain_match(host: str, domain: str) -> bool:
    """RFC 6265 5.1.3: ``host`` equals ``domain`` or is a subdomain of it, and is a name."""
    if host == domain:
        return True
    return (
        bool(domain)
        and host.endswith(domain)
        and host[-len(domain) - 1] == "."
        and not is_ip_address(host)
    )


def default_path(request_path: str) -> str:
    """RFC 6265 5.1.4: the request path up to, not including, its right-most ``/``."""
    if not request_path.startswith("/"):
        return "/"
    cut = request_path.rfind("/")
    return request_path[:cut] if cut > 0 else "/"


def path_match(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 5.1.4: equal, or a prefix ending at a ``/`` boundary."""
    if not request_path.startswith("/"):
        request_path = "/"
    if request_path == cookie_path:
        return True
    if not request_path.startswith(cookie_path):
        return False
    return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"


def parse_max_age(value: str) -> int | None:
    """RFC 6265 5.2.2: an optional ``-`` and digits; anything else ignores the attribute."""
    value = value.strip()
    if _MAX_AGE.fullmatch(value) is None:
        return None
    if len(value) > 16:  # beyond int()'s digit limit and any useful lifetime: clamp
        return -(10**15) if value.startswith("-") else 10**15
    return int(value)
