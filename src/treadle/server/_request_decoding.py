"""Request bodies sent with a ``Content-Encoding`` (aiohttp's ``auto_decompress``).

A client may compress what it uploads (RFC 9110 8.4); the handler reads the decoded
bytes. Decoding happens as the body arrives, bounded like every decoder in treadle
(a small body that inflates past the limit is refused, not buffered), and a corrupt
body raises in the handler rather than yielding garbage. Codings this installation
cannot decode are left as they are, as aiohttp does.
"""

from __future__ import annotations

from ..message import ContentDecoder, DecompressionError, DecompressionSizeError
from ..message import supported_encodings as _supported
from ._exceptions import HTTPBadRequest, HTTPRequestEntityTooLarge

__all__ = ["content_encoding", "decoder_for", "decoding_error"]

_SUPPORTED = frozenset(_supported())


def content_encoding(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The request's ``Content-Encoding`` value, or None (also for ``identity``)."""
    for name, value in headers:
        if len(name) == 16 and name.lower() == b"content-encoding":
            text = value.decode("latin-1").strip()
            return text if text and text.lower() != "identity" else None
    return None


def decoder_for(encoding: str) -> ContentDecoder | None:
    """A decoder when every coding of ``encoding`` is supported, else None (raw body)."""
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    aliases = {"x-gzip": "gzip"}
    if not codings or any(aliases.get(c, c) not in _SUPPORTED for c in codings):
        return None
    return ContentDecoder(encoding)


def decoding_error(exc: DecompressionError, decoder: ContentDecoder) -> Exception:
    """What the handler's read raises for a body that cannot be decoded."""
    if isinstance(exc, DecompressionSizeError):
        limit = float(decoder.max_size or 0)
        return HTTPRequestEntityTooLarge(
            max_size=limit, actual_size=limit, text=f"Request body too large: {exc}"
        )
    return HTTPBadRequest(text=f"Cannot decode the request body: {exc}")
