"""treadle: aiohttp's programming model on a sans-IO core, for asyncio, uvloop and trio."""

from __future__ import annotations

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
