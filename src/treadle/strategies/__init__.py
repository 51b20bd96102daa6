"""Hypothesis strategies for HTTP/1.1 messages and WebSocket frames.

For property-based tests of anything that speaks HTTP/1.1 or WebSocket: valid messages
come with the events a parser must produce (:class:`RequestCase`,
:class:`ResponseCase`), malformed ones name the rule they break
(:class:`MalformedCase`, :class:`WSMalformedCase`), and :func:`split` cuts bytes the
way a network does. Needs hypothesis: ``pip install 'treadle[hypothesis]'``.
See ``docs/testing.md``.
"""

from __future__ import annotations

try:
    import hypothesis as _hypothesis  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "treadle.strategies needs hypothesis; install it with "
        "pip install 'treadle[hypothesis]' (or pip install hypothesis)"
    ) from exc

from ._http import (
    FRAMING_NAMES,
    METHODS,
    RequestCase,
    ResponseCase,
    body_events,
    chunked_bodies,
    header_names,
    header_values,
    headers,
    pipelined_requests,
    requests,
    response_sequences,
    responses,
    split,
    targets,
)
from ._malformed import (
    REQUEST_DEFECTS,
    RESPONSE_DEFECTS,
    MalformedCase,
    malformed_requests,
    malformed_responses,
    mutated,
)
from ._websocket import (
    BINARY,
    CLOSE,
    CONTINUATION,
    PING,
    PONG,
    TEXT,
    WS_DEFECTS,
    WSFrame,
    WSMalformedCase,
    WSStreamCase,
    encode_frame,
    malformed_ws_frames,
    ws_frames,
    ws_streams,
)
from ._ws_handshake import (
    WS_HANDSHAKE_DEFECTS,
    WSHandshakeCase,
    accept_for,
    malformed_ws_handshakes,
    ws_handshakes,
)

__all__ = [
    "BINARY",
    "CLOSE",
    "CONTINUATION",
    "FRAMING_NAMES",
    "METHODS",
    "PING",
    "PONG",
    "REQUEST_DEFECTS",
    "RESPONSE_DEFECTS",
    "TEXT",
    "WS_DEFECTS",
    "WS_HANDSHAKE_DEFECTS",
    "MalformedCase",
    "RequestCase",
    "ResponseCase",
    "WSFrame",
    "WSHandshakeCase",
    "WSMalformedCase",
    "WSStreamCase",
    "accept_for",
    "body_events",
    "chunked_bodies",
    "encode_frame",
    "header_names",
    "header_values",
    "headers",
    "malformed_requests",
    "malformed_responses",
    "malformed_ws_frames",
    "malformed_ws_handshakes",
    "mutated",
    "pipelined_requests",
    "requests",
    "response_sequences",
    "responses",
    "split",
    "targets",
    "ws_frames",
    "ws_handshakes",
    "ws_streams",
]
