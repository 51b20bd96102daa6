"""The request attributes read from single header fields: entity and conditional ones.

Each is parsed from the raw ``bytes`` pairs on access, without building the
``headers`` multidict, since a handler typically reads one or two of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from ..message import parse_mimetype
from ..protocol import Request as RequestEvent
from ._http_helpers import ETag, parse_etag_list, parse_http_date

__all__ = ["HeaderFieldsMixin", "parse_single_range"]

_DEFAULT_CONTENT_TYPE: Final = "application/octet-stream"
_RANGE_UNIT: Final = "bytes="


class HeaderFieldsMixin:
    """``content_type``, ``charset``, ``content_length``, ``if_*`` and ``http_range``."""

    __slots__ = ()
    _message: RequestEvent

    def _raw_header(self, lower_name: bytes) -> str | None:
        """The first field named ``lower_name``, without building ``headers``."""
        for name, value in self._message.headers:
            if len(name) == len(lower_name) and name.lower() == lower_name:
                return value.decode("latin-1")
        return None

    @property
    def content_type(self) -> str:
        """The media type without parameters; ``application/octet-stream`` if absent."""
        raw = self._raw_header(b"content-type")
        if not raw:
            return _DEFAULT_CONTENT_TYPE
        mime = parse_mimetype(raw)
        if not mime.type:
            return _DEFAULT_CONTENT_TYPE
        suffix = f"+{mime.suffix}" if mime.suffix else ""
        return f"{mime.type}/{mime.subtype}{suffix}"

    @property
    def charset(self) -> str | None:
        raw = self._raw_header(b"content-type")
        if not raw:
            return None
        charset = parse_mimetype(raw).parameters.get("charset")
        return charset.lower() if charset else None

    @property
    def content_length(self) -> int | None:
        raw = self._raw_header(b"content-length")
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            return None

    # -- conditional requests (RFC 9110 13.1) ------------------------------------------

    @property
    def if_modified_since(self) -> datetime | None:
        return parse_http_date(self._raw_header(b"if-modified-since"))

    @property
    def if_unmodified_since(self) -> datetime | None:
        return parse_http_date(self._raw_header(b"if-unmodified-since"))

    @property
    def if_range(self) -> datetime | None:
        """``If-Range`` as a date (None when absent or an entity tag)."""
        return parse_http_date(self._raw_header(b"if-range"))

    @property
    def if_match(self) -> tuple[ETag, ...] | None:
        return parse_etag_list(self._raw_header(b"if-match"))

    @property
    def if_none_match(self) -> tuple[ETag, ...] | None:
        return parse_etag_list(self._raw_header(b"if-none-match"))

    @property
    def http_range(self) -> slice:
        """The single byte range asked for (RFC 9110 14.1.2) as a ``slice``.

        ``bytes=0-499`` is ``slice(0, 500)``, ``bytes=500-`` is ``slice(500, None)``,
        ``bytes=-500`` is ``slice(-500, None)``; no header is ``slice(None, None, 1)``.
        Malformed or several ranges raise ``ValueError``.
        """
        raw = self._raw_header(b"range")
        if raw is None:
            return slice(None, None, 1)
        start, end = parse_single_range(raw)
        return slice(start, end, 1)


def parse_single_range(header: str) -> tuple[int | None, int | None]:
    """``(start, stop)`` of a one-range ``Range`` header, Python slice style.

    Raises ``ValueError`` for another unit, several ranges or a malformed/backwards one.
    """
    value = header.strip()
    if not value.lower().startswith(_RANGE_UNIT):
        raise ValueError(f"range not in acceptable format: {header!r}")
    spec = value[len(_RANGE_UNIT) :].strip()
    if "," in spec:
        raise ValueError("multiple ranges are not supported here: use the Range header")
    first, dash, last = spec.partition("-")
    first, last = first.strip(), last.strip()
    if not dash or not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
        raise ValueError(f"range not in acceptable format: {header!r}")
    if not first:
        if not last:
            raise ValueError(f"range not in acceptable format: {header!r}")
        return -int(last), None
    start = int(first)
    if not last:
        return start, None
    end = int(last)
    if end < start:
        raise ValueError("start cannot be after end")
    return start, end + 1
