"""HTTP client: ClientSession and friends (built by the client issue)."""

from __future__ import annotations

__all__: list[str] = []
