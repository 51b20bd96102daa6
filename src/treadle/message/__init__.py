"""What the client and server both handle: bodies, payloads, multipart, compression.

client/ and server/ never import each other (DESIGN.md); the pieces of an HTTP message
that both sides read or write live here.
"""

from __future__ import annotations

__all__: list[str] = []
