"""Request method names the router works with (aiohttp's ``hdrs.METH_*``).

Methods are case-sensitive tokens (RFC 9110 9.1); ``*`` is not a method but the
router's wildcard: a route registered with ``METH_ANY`` answers every method.
"""

from __future__ import annotations

import re
from typing import Final

METH_ANY: Final = "*"
METH_CONNECT: Final = "CONNECT"
METH_HEAD: Final = "HEAD"
METH_GET: Final = "GET"
METH_DELETE: Final = "DELETE"
METH_OPTIONS: Final = "OPTIONS"
METH_PATCH: Final = "PATCH"
METH_POST: Final = "POST"
METH_PUT: Final = "PUT"
METH_TRACE: Final = "TRACE"

METH_ALL: Final = frozenset(
    {
        METH_CONNECT,
        METH_HEAD,
        METH_GET,
        METH_DELETE,
        METH_OPTIONS,
        METH_PATCH,
        METH_POST,
        METH_PUT,
        METH_TRACE,
    }
)

# RFC 9110 5.6.2: token = 1*tchar; a method name is a token (9.1).
TOKEN_RE: Final = re.compile(r"[0-9A-Za-z!#$%&'*+\-.^_`|~]+")

__all__ = [
    "METH_ALL",
    "METH_ANY",
    "METH_CONNECT",
    "METH_DELETE",
    "METH_GET",
    "METH_HEAD",
    "METH_OPTIONS",
    "METH_PATCH",
    "METH_POST",
    "METH_PUT",
    "METH_TRACE",
]
