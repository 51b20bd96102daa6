"""Small HTTP values requests and responses share: versions, dates, entity tags, codings.

aiohttp keeps these in ``aiohttp.helpers`` and ``aiohttp.http``; they live here so the
request and response modules do not import each other.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from importlib import metadata
from typing import Final

# One class for both sides (client/ has the same names): re-exported from here.
from ..message._values import ChainMapProxy, ETag, HttpVersion, HttpVersion10, HttpVersion11

__all__ = [
    "ETAG_ANY",
    "SERVER_SOFTWARE",
    "ChainMapProxy",
    "ETag",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "accept_encoding_items",
    "format_http_date",
    "http_date_now",
    "parse_etag_list",
    "parse_http_date",
    "quote_etag",
]

try:  # not ``treadle.__version__``: the top-level package may import this one
    _VERSION = metadata.version("treadle")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    _VERSION = "0"
SERVER_SOFTWARE: Final = f"Python/{sys.version_info[0]}.{sys.version_info[1]} treadle/{_VERSION}"


_VERSIONS: Final = {b"1.1": HttpVersion11, b"1.0": HttpVersion10}


def version_from_bytes(raw: bytes) -> HttpVersion:
    """``b"1.1"`` -> ``HttpVersion(1, 1)`` (the core only lets 1.0 and 1.1 through)."""
    found = _VERSIONS.get(raw)
    if found is not None:
        return found
    major, _, minor = raw.partition(b".")
    return HttpVersion(int(major), int(minor or b"0"))


# -- dates (RFC 9110 5.6.7) ---------------------------------------------------------------

_date_second = -1
_date_value = ""


def http_date_now() -> str:
    """The ``Date`` header value for now; formatted at most once per second."""
    global _date_second, _date_value
    now = int(time.time())
    if now != _date_second:
        _date_value = formatdate(now, usegmt=True)
        _date_second = now
    return _date_value


def format_http_date(value: int | float | datetime | str) -> str:
    """An IMF-fixdate for a timestamp or an aware/naive-UTC datetime; str passes as is."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.timestamp()
    return formatdate(float(value), usegmt=True)


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP date (any of the three RFC 9110 5.6.7 forms) as an aware UTC datetime.

    Anything unparsable gives None, as aiohttp does: an invalid conditional header is
    ignored (RFC 9110 13.1.3).
    """
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# -- entity tags (RFC 9110 8.8.3) -------------------------------------------------------

ETAG_ANY: Final = "*"
# etagc = "!" / %x23-7E / obs-text
_ETAGC = r"[!#-~\x80-\xff]+"
_ETAGC_RE: Final = re.compile(_ETAGC)
_ETAG_LIST_ITEM: Final = re.compile(rf'\s*(?:(W/)?"({_ETAGC})?"|(\*))\s*(?:,|$)')


def quote_etag(value: str | ETag) -> str:
    """The header form of an entity tag; refuses characters an ETag cannot hold."""
    if isinstance(value, ETag):
        etag, weak = value.value, value.is_weak
    elif isinstance(value, str):
        etag, weak = value, False
    else:
        raise ValueError(f"Unsupported etag type: {type(value).__name__}")
    if etag == ETAG_ANY:
        return etag
    if etag and _ETAGC_RE.fullmatch(etag) is None:
        raise ValueError(f"Value {etag!r} is not a valid etag: it may hold only RFC 9110 etagc")
    return f'W/"{etag}"' if weak else f'"{etag}"'


def parse_etag_list(header: str | None) -> tuple[ETag, ...] | None:
    """``If-Match``/``If-None-Match``: the tags listed, ``(ETag("*"),)`` for ``*``.

    None when the header is absent; parsing stops at the first malformed item (what
    came before it is kept, as aiohttp does).
    """
    if header is None:
        return None
    tags: list[ETag] = []
    pos = 0
    length = len(header)
    while pos < length:
        match = _ETAG_LIST_ITEM.match(header, pos)
        if match is None or match.end() == pos:
            break
        weak, value, star = match.groups()
        if star:
            return (ETag(ETAG_ANY),)
        tags.append(ETag(value or "", bool(weak)))
        pos = match.end()
    return tuple(tags)


def parse_etag(header: str | None) -> ETag | None:
    """A single ``ETag`` header value, or None when absent or malformed."""
    if not header:
        return None
    found = parse_etag_list(header)
    if not found or found[0].value == ETAG_ANY:
        return None
    return found[0]


def accept_encoding_items(accept_encoding: str) -> Iterator[tuple[str, float]]:
    """The ``(coding, q-value)`` items of ``Accept-Encoding`` in order (RFC 9110 12.5.3):
    names lowercased, q 1.0 when absent, 0.0 when not a number."""
    for item in accept_encoding.lower().split(","):
        name, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        yield name.strip(), quality
