"""Percent-encoding rules shared by every resource, so registration and lookup agree.

Routes are matched against a *safe-decoded* path: every ``%XX`` escape is decoded
(RFC 3986 2.1; UTF-8 per RFC 3987) except ``%2F`` and ``%25``, which stay encoded so an
encoded slash never splits a segment and a literal ``%`` stays unambiguous. Bytes that
are not valid UTF-8 stay as (upper-case) escapes. The values a route captures are then
decoded once more (``%2F`` -> ``/``, ``%25`` -> ``%``). Registered paths go through the
same function, so ``/caf%C3%A9``, ``/caf%c3%a9`` and ``/café`` name one resource.
"""

from __future__ import annotations

import re
import string

# RFC 3986 3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@"
_UNRESERVED = string.ascii_letters + string.digits + "-._~"
_PCHAR = frozenset(_UNRESERVED + "!$&'()*+,;=:@")
_PATH_CHARS = _PCHAR | {"/"}

_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+|%")
_KEPT = re.compile(r"%(2F|25)")
_KEPT_BYTES = {"/": "%2F", "%": "%25"}


def _encode(char: str) -> str:
    try:
        data = char.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{char!r} cannot be percent-encoded: it is not valid in UTF-8") from None
    return "".join(f"%{byte:02X}" for byte in data)


def quote(value: str, *, safe_slash: bool) -> str:
    """Percent-encode ``value`` for a path; ``/`` stays literal only if ``safe_slash``."""
    allowed = _PATH_CHARS if safe_slash else _PCHAR
    return "".join(c if c in allowed else _encode(c) for c in value)


def requote(path: str) -> str:
    """Encode what must be encoded in ``path`` but keep valid ``%XX`` escapes as they are."""
    out: list[str] = []
    index = 0
    while index < len(path):
        char = path[index]
        if char == "%" and re.fullmatch(r"[0-9A-Fa-f]{2}", path[index + 1 : index + 3]):
            out.append(path[index : index + 3].upper())
            index += 3
            continue
        out.append(char if char in _PATH_CHARS else _encode(char))
        index += 1
    return "".join(out)


def _decode_run(match: re.Match[str]) -> str:
    run = match.group()
    if run == "%":  # a stray percent sign is a literal one
        return "%25"
    raw = bytes.fromhex(run.replace("%", ""))
    text = raw.decode("utf-8", "surrogateescape")
    out = []
    for char in text:
        if char in _KEPT_BYTES:
            out.append(_KEPT_BYTES[char])
        elif "\udc80" <= char <= "\udcff":
            out.append(f"%{ord(char) - 0xDC00:02X}")
        else:
            out.append(char)
    return "".join(out)


def safe_decode(path: str) -> str:
    """Decode every escape of ``path`` but ``%2F``, ``%25`` and invalid UTF-8."""
    if "%" not in path:
        return path
    return _ESCAPES.sub(_decode_run, path)


def decode_value(value: str) -> str:
    """Finish decoding a captured value of a safe-decoded path."""
    if "%" not in value:
        return value
    return _KEPT.sub(lambda m: "/" if m.group(1) == "2F" else "%", value)


__all__ = ["decode_value", "quote", "requote", "safe_decode"]
