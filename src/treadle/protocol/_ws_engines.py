"""Choosing a WebSocket frame engine: ``fast`` (treadle's own, default) or ``wsproto``.

Both produce the same frames and refuse the same bytes with the same close code (one
test suite runs on each, and a differential property runs them side by side).
"""

from __future__ import annotations

import os

from ._ws_frames import FastFrameEngine, FrameEngine

__all__ = ["WS_ENGINE_NAMES", "make_frame_engine", "resolve_ws_engine"]

WS_ENGINE_NAMES = ("wsproto", "fast")
ENVIRONMENT_VARIABLE = "TREADLE_WS_ENGINE"


def resolve_ws_engine(name: str | None) -> str:
    """The engine to use: the argument, else ``$TREADLE_WS_ENGINE``, else ``fast``."""
    chosen = name or os.environ.get(ENVIRONMENT_VARIABLE) or "fast"
    if chosen not in WS_ENGINE_NAMES:
        raise ValueError(f"unknown WebSocket engine {chosen!r}: choose one of {WS_ENGINE_NAMES}")
    return chosen


def make_frame_engine(
    name: str, *, client: bool, allow_rsv1: bool, max_frame_size: int
) -> FrameEngine:
    if name == "wsproto":
        from ._ws_wsproto import WsprotoFrameEngine

        return WsprotoFrameEngine(
            client=client, allow_rsv1=allow_rsv1, max_frame_size=max_frame_size
        )
    return FastFrameEngine(client=client, allow_rsv1=allow_rsv1, max_frame_size=max_frame_size)
