"""Media types, header parameters and Content-Disposition (RFC 9110, 2046, 6266, 5987).

Parsing is lenient where browsers and servers disagree in harmless ways (a raw UTF-8
filename, an unquoted value with spaces) and strict where a wrong reading could be
exploited (duplicate parameters invalidate the header, as in aiohttp). Formatting
produces what the receiving side most likely understands: raw UTF-8 in quoted strings
for ``form-data`` (RFC 7578 4.2, as browsers send), RFC 5987 ``filename*`` otherwise.
"""

from __future__ import annotations

import re
import warnings
from typing import NamedTuple
from urllib.parse import quote, unquote_to_bytes

from multidict import MultiDict, MultiDictProxy

__all__ = [
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
    "MimeType",
    "content_disposition_filename",
    "content_disposition_header",
    "format_param",
    "parse_content_disposition",
    "parse_mimetype",
    "validate_boundary",
]

_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# RFC 2046 5.1.1 bchars (the last one must not be a space).
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]\Z")
# RFC 5987 attr-char, minus what urllib.parse.quote keeps anyway.
_ATTR_SAFE = "!#$&+^`|~"
_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class BadContentDispositionHeader(RuntimeWarning):
    """The Content-Disposition header is unusable; it was read as absent (aiohttp name)."""


class BadContentDispositionParam(RuntimeWarning):
    """One Content-Disposition parameter is unusable and was skipped (aiohttp name)."""


class MimeType(NamedTuple):
    """A parsed media type, as ``aiohttp.helpers.parse_mimetype`` returns it."""

    type: str
    subtype: str
    suffix: str
    parameters: MultiDictProxy[str]


def is_token(value: str) -> bool:
    """RFC 9110 5.6.2 token."""
    return bool(value) and all(c in _TCHAR for c in value)


def _split_params(header: str) -> tuple[str, list[tuple[str, str, bool]], bool]:
    """Split ``head; k=v; k="q"`` into the head and ``(key, value, was_quoted)`` triples.

    The third result is False when the parameter list was malformed (an unterminated
    quoted string, a parameter without ``=``); what parsed before the fault is kept.
    """
    head, sep, rest = header.partition(";")
    params: list[tuple[str, str, bool]] = []
    pos, end = 0, len(rest)
    while sep and pos < end:
        while pos < end and rest[pos] in " \t;":
            pos += 1
        if pos >= end:
            break
        eq = rest.find("=", pos)
        semi = rest.find(";", pos)
        if eq < 0 or (0 <= semi < eq):
            return head.strip(), params, False
        key = rest[pos:eq].strip().lower()
        pos = eq + 1
        while pos < end and rest[pos] in " \t":
            pos += 1
        if pos < end and rest[pos] == '"':
            chars: list[str] = []
            pos += 1
            while pos < end and rest[pos] != '"':
                if rest[pos] == "\\" and pos + 1 < end:
                    pos += 1
                chars.append(rest[pos])
                pos += 1
            if pos >= end:
                return head.strip(), params, False
            pos += 1
            params.append((key, "".join(chars), True))
        else:
            semi = rest.find(";", pos)
            stop = end if semi < 0 else semi
            params.append((key, rest[pos:stop].strip(), False))
            pos = stop
    return head.strip(), params, True


def parse_mimetype(mimetype: str) -> MimeType:
    """Parse a Content-Type value; an empty or odd one gives empty fields, never raises."""
    head, params, _ = _split_params(mimetype)
    parameters: MultiDict[str] = MultiDict((k, v) for k, v, _ in params if k)
    full_type, _, subtype = head.lower().partition("/")
    subtype, _, suffix = subtype.partition("+")
    return MimeType(full_type.strip(), subtype.strip(), suffix.strip(), MultiDictProxy(parameters))


def format_param(value: str) -> str:
    """A parameter value as a token when it is one, else a quoted-string (RFC 9110 5.6.6)."""
    if is_token(value):
        return value
    if _CTL.search(value):
        raise ValueError(f"control character in header parameter {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def validate_boundary(boundary: str) -> bytes:
    """Check a multipart boundary against RFC 2046 5.1.1 and return it as bytes."""
    if not isinstance(boundary, str) or not _BOUNDARY.match(boundary):
        raise ValueError(
            f"invalid multipart boundary {boundary!r}: use 1 to 70 characters from "
            "A-Z a-z 0-9 '()+_,-./:=? and space, not ending in a space (RFC 2046 5.1.1)"
        )
    return boundary.encode("ascii")


def _quote_raw(value: str) -> str:
    """A quoted-string holding raw UTF-8; line breaks and controls percent-encoded."""
    value = _CTL.sub(lambda m: f"%{ord(m.group()):02X}", value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def content_disposition_header(
    disptype: str,
    quote_fields: bool = True,
    _charset: str = "utf-8",
    params: dict[str, str] | None = None,
) -> str:
    """Build a Content-Disposition value (RFC 6266) from a type and parameters.

    Printable ASCII values become quoted strings. Other values are sent as raw UTF-8
    quoted strings for ``form-data`` (RFC 7578 4.2 forbids ``filename*`` there) or when
    ``quote_fields`` is false, and as RFC 5987 ``key*=charset''...`` otherwise, with a
    percent-encoded ASCII ``filename`` beside ``filename*`` for old receivers.
    """
    if not is_token(disptype):
        raise ValueError(f"bad content disposition type {disptype!r}")
    pieces = [disptype]
    for key, val in (params or {}).items():
        if not is_token(key) or key.endswith("*"):
            raise ValueError(f"bad content disposition parameter {key!r}={val!r}")
        plain = all(" " <= c <= "~" for c in val)
        if plain or not quote_fields or disptype.lower() == "form-data":
            pieces.append(f"{key}={_quote_raw(val)}")
        else:
            encoded = quote(val, safe=_ATTR_SAFE, encoding=_charset)
            if key.lower() == "filename":
                pieces.append(f'{key}="{encoded}"')
            pieces.append(f"{key}*={_charset}''{encoded}")
    return "; ".join(pieces)


def _decode_ext(value: str) -> str | None:
    """Decode an RFC 5987 ext-value ``charset'lang'pct-encoded``; None if malformed."""
    parts = value.split("'", 2)
    if len(parts) != 3:
        return None
    charset = parts[0] or "utf-8"
    try:
        return unquote_to_bytes(parts[2]).decode(charset)
    except (LookupError, UnicodeDecodeError):
        return None


def parse_content_disposition(header: str | None) -> tuple[str | None, dict[str, str]]:
    """Parse Content-Disposition into ``(type, params)`` like aiohttp.

    ``key*`` values are decoded (RFC 5987); RFC 2231 continuations (``key*0``,
    ``key*1*``...) are kept raw for :func:`content_disposition_filename`. A header that
    cannot be trusted (bad type, duplicate parameter, broken syntax) gives ``(None, {})``
    with a :class:`BadContentDispositionHeader` warning.
    """
    if not header:
        return None, {}
    disptype, raw, ok = _split_params(header)
    if not ok or not is_token(disptype):
        warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
        return None, {}
    params: dict[str, str] = {}
    for key, value, quoted in raw:
        if key in params:
            warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
            return None, {}
        if not key:
            warnings.warn(BadContentDispositionParam(header), stacklevel=2)
            continue
        if key.endswith("*") and not key[:-1].rpartition("*")[2].isdigit():
            decoded = None if quoted else _decode_ext(value)
            if decoded is None:
                warnings.warn(BadContentDispositionParam(f"{key}={value}"), stacklevel=2)
                continue
            params[key] = decoded
        else:
            params[key] = value
    return disptype.lower(), params


def content_disposition_filename(params: dict[str, str], name: str = "filename") -> str | None:
    """The value of ``name`` from parsed params: ``name*``, ``name``, or continuations."""
    if f"{name}*" in params:
        return params[f"{name}*"]
    if name in params:
        return params[name]
    pieces: list[tuple[str, bool]] = []
    index = 0
    while True:
        if f"{name}*{index}*" in params:
            pieces.append((params[f"{name}*{index}*"], True))
        elif f"{name}*{index}" in params:
            pieces.append((params[f"{name}*{index}"], False))
        else:
            break
        index += 1
    if not pieces:
        return None
    charset = "utf-8"
    first, extended = pieces[0]
    if extended:
        parts = first.split("'", 2)
        if len(parts) == 3:
            charset = parts[0] or "utf-8"
            pieces[0] = (parts[2], True)
    try:
        data = b"".join(
            unquote_to_bytes(text) if ext else text.encode(charset) for text, ext in pieces
        )
        return data.decode(charset)
    except (LookupError, UnicodeError):
        warnings.warn(BadContentDispositionParam(f"{name}*0"), stacklevel=2)
        return None
