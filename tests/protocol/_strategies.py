"""The protocol properties' strategies: the public ones of :mod:`treadle.strategies`,
under the names these tests have always used."""

from __future__ import annotations

from hypothesis import strategies as st

from treadle.protocol import Headers
from treadle.strategies import (
    METHODS,
    RequestCase,
    ResponseCase,
    body_events,
    header_values,
    mutated,
    pipelined_requests,
    response_sequences,
    split,
    targets,
)
from treadle.strategies import header_names as _header_names
from treadle.strategies import headers as _headers

__all__ = [
    "METHODS",
    "RequestCase",
    "ResponseCase",
    "body_events",
    "extra_fields",
    "field_values",
    "header_names",
    "mutated",
    "pipelined_requests",
    "response_sequences",
    "split",
    "targets",
]

header_names: st.SearchStrategy[bytes] = _header_names()
field_values = header_values
extra_fields: st.SearchStrategy[Headers] = _headers()
