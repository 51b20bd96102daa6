"""Errors raised while reading message bodies that a peer controls.

Every class derives from ``ValueError``, as the errors aiohttp raises for the same faults
do, so code written for aiohttp that catches ``ValueError`` keeps working. Each carries a
``status_hint``: the HTTP status a server should answer with when a request body is at
fault (400 for malformed input, 413 when a configured limit is exceeded, 415 for a
content coding we cannot decode).
"""

from __future__ import annotations

__all__ = [
    "DecompressionError",
    "DecompressionSizeError",
    "MessageBodyError",
    "MultipartError",
    "MultipartLimitError",
    "UnsupportedEncodingError",
]


class MessageBodyError(ValueError):
    """Base class: a body received from the peer cannot be read as it claims to be."""

    default_status = 400

    def __init__(self, message: str, *, status_hint: int | None = None) -> None:
        super().__init__(message)
        self.status_hint = self.default_status if status_hint is None else status_hint

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, status_hint={self.status_hint})"


class DecompressionError(MessageBodyError):
    """Compressed data is corrupt, truncated, or followed by garbage."""


class DecompressionSizeError(DecompressionError):
    """Decompressed output would exceed ``max_size`` (a zip bomb, or a limit set too low)."""

    default_status = 413


class UnsupportedEncodingError(DecompressionError):
    """A Content-Encoding we cannot decode (unknown, or its module is not installed)."""

    default_status = 415


class MultipartError(MessageBodyError):
    """A multipart body breaks RFC 2046 / RFC 7578 framing (boundary, headers, end)."""


class MultipartLimitError(MultipartError):
    """A multipart body exceeds a configured limit (size, line, header or part count)."""

    default_status = 413
