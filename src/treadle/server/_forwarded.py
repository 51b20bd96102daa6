"""Parsing ``Forwarded`` (RFC 7239) and ``Cookie`` (RFC 6265 5.4) request headers.

Both are peer-controlled: the parsers never raise and never loop without consuming
input. A malformed ``Forwarded`` element is skipped up to the next comma, keeping the
elements around it, as aiohttp does; the number of elements is capped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import MappingProxyType
from typing import Final

__all__ = ["parse_cookie_header", "parse_forwarded"]

MAX_FORWARDED_ELEMENTS: Final = 64

_TCHAR = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
_TOKEN = rf"{_TCHAR}+"
# quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 5.6.4)
_QUOTED = r'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t !-~\x80-\xff])*"'
_PAIR: Final = re.compile(rf"({_TOKEN})=({_TOKEN}|{_QUOTED})(:\d{{1,5}})?")
_QUOTED_PAIR: Final = re.compile(r"\\([\t !-~\x80-\xff])")


def _unquote(value: str) -> str:
    if value.startswith('"'):
        return _QUOTED_PAIR.sub(r"\1", value[1:-1])
    return value


def parse_forwarded(values: Iterable[str]) -> tuple[MappingProxyType[str, str], ...]:
    """One read-only mapping per forwarded-element (proxy), in the order they were added.

    Parameter names are lower-cased (they are case-insensitive); values are unquoted.
    Not validated: the contents of ``for``/``by``/``host``/``proto`` (RFC 7239 6). As
    aiohttp: whitespace is allowed around pairs, an unquoted ``for=1.2.3.4:80`` keeps
    its port, and bad syntax skips to the next comma, keeping what was parsed before.
    """
    elements: list[MappingProxyType[str, str]] = []
    for field in values:
        length = len(field)
        pos = 0
        need_separator = False
        element: dict[str, str] = {}
        elements.append(MappingProxyType(element))
        while 0 <= pos < length:
            char = field[pos]
            match = _PAIR.match(field, pos) if not need_separator else None
            if match is not None:
                name, value, port = match.groups()
                element[name.lower()] = _unquote(value) + (port or "")
                pos = match.end()
                need_separator = True
            elif char == ",":
                if len(elements) >= MAX_FORWARDED_ELEMENTS:
                    break
                need_separator = False
                element = {}
                elements.append(MappingProxyType(element))
                pos += 1
            elif char == ";":
                need_separator = False
                pos += 1
            elif char in " \t":
                pos += 1
            else:
                pos = field.find(",", pos)  # bad syntax: skip to the next element
        if len(elements) >= MAX_FORWARDED_ELEMENTS:
            break
    return tuple(elements)


def parse_cookie_header(values: Iterable[str]) -> dict[str, str]:
    """``name=value`` pairs of ``Cookie`` headers; the first of a repeated name wins.

    Lenient like browsers (RFC 6265 5.4 is what user agents send, servers see worse):
    a pair with an empty name is skipped, a name without ``=`` has the empty value (as
    aiohttp 3.12+), surrounding double quotes are removed, nothing raises.
    """
    cookies: dict[str, str] = {}
    for header in values:
        for pair in header.split(";"):
            name, _, value = pair.partition("=")
            name = name.strip()
            if not name:
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
                value = value[1:-1]
            cookies.setdefault(name, value)
    return cookies
