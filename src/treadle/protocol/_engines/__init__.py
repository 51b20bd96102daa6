"""Choosing a parsing engine: ``h11`` (reference) or ``httptools`` (llhttp, the default).

The choice changes speed, never behaviour: the core applies one policy over both, and
the test suite runs every case on each.
"""

from __future__ import annotations

import os

from .._limits import Limits
from ._base import RequestEngine, RequestSink, ResponseEngine, ResponseSink
from ._h11 import H11RequestEngine, H11ResponseEngine

try:
    from ._httptools import HttptoolsRequestEngine, HttptoolsResponseEngine
except ImportError:  # pragma: no cover - httptools is absent off CPython
    HTTPTOOLS_AVAILABLE = False
else:
    HTTPTOOLS_AVAILABLE = True

__all__ = [
    "ENGINE_NAMES",
    "HTTPTOOLS_AVAILABLE",
    "available_engines",
    "make_request_engine",
    "make_response_engine",
    "resolve_engine",
]

ENGINE_NAMES = ("h11", "httptools")
ENVIRONMENT_VARIABLE = "TREADLE_HTTP_ENGINE"


def available_engines() -> tuple[str, ...]:
    """The engines importable here, fastest last."""
    return ENGINE_NAMES if HTTPTOOLS_AVAILABLE else ("h11",)


def resolve_engine(name: str | None) -> str:
    """The engine to use: the argument, else ``$TREADLE_HTTP_ENGINE``, else the fastest."""
    chosen = name or os.environ.get(ENVIRONMENT_VARIABLE) or available_engines()[-1]
    if chosen not in ENGINE_NAMES:
        raise ValueError(f"unknown HTTP engine {chosen!r}: choose one of {ENGINE_NAMES}")
    if chosen == "httptools" and not HTTPTOOLS_AVAILABLE:
        raise ValueError("the httptools engine needs the httptools package (CPython only)")
    return chosen


def make_request_engine(name: str, sink: RequestSink, limits: Limits) -> RequestEngine:
    if name == "httptools":
        return HttptoolsRequestEngine(sink, limits)
    return H11RequestEngine(sink, limits)


def make_response_engine(name: str, sink: ResponseSink, limits: Limits) -> ResponseEngine:
    if name == "httptools":
        return HttptoolsResponseEngine(sink, limits)
    return H11ResponseEngine(sink, limits)
