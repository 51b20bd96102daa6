"""HTTP server: Application, router, responses (built by the server issue)."""

from __future__ import annotations

__all__: list[str] = []
