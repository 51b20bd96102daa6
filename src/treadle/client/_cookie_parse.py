"""Set-Cookie parsing per RFC 6265 5.2, into ``http.cookies.Morsel`` objects.

``SimpleCookie.load`` drops a whole header on one attribute it dislikes and keeps only
one cookie per name; the RFC algorithm is lenient per attribute and each header is one
cookie, so two cookies of one name with different paths both survive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from http.cookies import CookieError, Morsel

from ._cookie_date import parse_cookie_date
from ._cookie_rules import is_valid_name, parse_max_age

__all__ = ["parse_set_cookie", "parse_set_cookie_headers"]

_WSP = " \t"
_ESCAPE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))", re.DOTALL)


def _unquote(value: str) -> str:
    """A DQUOTE-wrapped value without its quotes and escapes, as SimpleCookie reads it."""
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    return _ESCAPE.sub(lambda m: chr(int(m[1], 8)) if m[1] else m[2], value[1:-1])


def parse_set_cookie(header: str) -> Morsel[str] | None:
    """One Set-Cookie field value as a Morsel; None when RFC 6265 5.2 ignores it."""
    pair, _, unparsed = header.partition(";")
    if "=" not in pair:  # 5.2 step 2
        return None
    name, _, coded = pair.partition("=")
    name, coded = name.strip(_WSP), coded.strip(_WSP)
    if not is_valid_name(name):  # 5.2 step 5 (empty), and Morsel only holds tokens
        return None
    morsel: Morsel[str] = Morsel()
    try:
        morsel.set(name, _unquote(coded), coded)
    except CookieError:  # a reserved word such as "path" cannot be a Morsel key
        return None
    # 5.2 steps 6-8: each attribute is checked alone; when one repeats, the last wins.
    for av in unparsed.split(";"):
        key, _, value = av.partition("=")
        key, value = key.strip(_WSP).lower(), value.strip(_WSP)
        if key == "expires":
            if parse_cookie_date(value) is not None:
                morsel["expires"] = value
        elif key == "max-age":
            if parse_max_age(value) is not None:
                morsel["max-age"] = value
        elif key == "domain":
            if value:
                morsel["domain"] = value
        elif key == "path":
            morsel["path"] = value
        elif key in ("secure", "httponly"):
            morsel[key] = True
        elif key == "samesite":
            morsel["samesite"] = value
    return morsel


def parse_set_cookie_headers(headers: Iterable[str]) -> list[tuple[str, Morsel[str]]]:
    """Every usable cookie of a response's Set-Cookie fields, in order."""
    cookies = []
    for header in headers:
        morsel = parse_set_cookie(header)
        if morsel is not None:
            cookies.append((morsel.key, morsel))
    return cookies
