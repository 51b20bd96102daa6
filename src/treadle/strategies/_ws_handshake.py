"""WebSocket opening handshakes (RFC 6455 4.1, 4.2), valid and with one defect.

A valid case carries the request bytes, the ``Request`` event they parse to and the
``Sec-WebSocket-Accept`` a server must answer with (4.2.2: base64 of the SHA-1 of the
key and the protocol's GUID), computed here from the RFC, not by any implementation.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from hypothesis import strategies as st

from treadle.protocol import Headers, Request

from ._http import TCHAR, _case_variants, _hosts, header_names, header_values, targets

__all__ = ["WS_HANDSHAKE_DEFECTS", "WSHandshakeCase", "malformed_ws_handshakes", "ws_handshakes"]

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#: Every defect :func:`malformed_ws_handshakes` knows.
WS_HANDSHAKE_DEFECTS = (
    "method",
    "http-1.0",
    "no-upgrade",
    "no-connection-upgrade",
    "version",
    "no-version",
    "no-key",
    "bad-key",
)


@dataclass
class WSHandshakeCase:
    """An opening handshake: ``data`` (request bytes), ``request`` (its event),
    ``key``, ``accept`` (the answer it calls for), the ``protocols`` offered in order,
    and, for a malformed one, the ``defect`` and the ``status_hint`` to refuse with."""

    data: bytes
    request: Request
    key: bytes
    accept: bytes
    protocols: list[str] = field(default_factory=list)
    defect: str | None = None
    status_hint: int = 101


def accept_for(key: bytes) -> bytes:
    """``Sec-WebSocket-Accept`` for ``key`` (RFC 6455 4.2.2 step 5.4)."""
    return base64.b64encode(hashlib.sha1(key + WS_GUID).digest())


@st.composite
def _handshake(draw: st.DrawFn, defect: str | None) -> WSHandshakeCase:
    key = base64.b64encode(draw(st.binary(min_size=16, max_size=16)))
    method, version, status = b"GET", b"1.1", 101
    # RFC 6455 4.2.1 asks for "websocket" (case-insensitive); some servers (wsproto)
    # refuse it as one of several protocols, so valid cases send it alone.
    upgrade = draw(st.sampled_from((b"websocket", b"WebSocket", b"WEBSOCKET")))
    connection = draw(st.sampled_from((b"Upgrade", b"upgrade", b"keep-alive, Upgrade")))
    ws_version: bytes | None = b"13"
    sent_key: bytes | None = key
    if defect == "method":
        method = draw(st.sampled_from((b"POST", b"PUT", b"HEAD", b"OPTIONS")))
        status = 405
    elif defect == "http-1.0":
        version, status = b"1.0", 400
    elif defect == "no-upgrade":
        upgrade, status = draw(st.sampled_from((b"", b"h2c", b"websockets"))), 400
    elif defect == "no-connection-upgrade":
        connection, status = draw(st.sampled_from((b"keep-alive", b"close", b"upgraded"))), 400
    elif defect == "version":
        ws_version, status = draw(st.sampled_from((b"8", b"12", b"14", b"abc"))), 426
    elif defect == "no-version":
        ws_version, status = None, 400
    elif defect == "no-key":
        sent_key, status = None, 400
    elif defect == "bad-key":
        raw = draw(st.binary(max_size=24).filter(lambda b: len(b) != 16))
        sent_key = draw(st.sampled_from((base64.b64encode(raw), b"not base64!!", b"")))
        status = 400
    protocols = draw(st.lists(st.text(TCHAR, min_size=1, max_size=10), max_size=3, unique=True))
    fields: Headers = [(draw(_case_variants(b"Host")), draw(_hosts))]
    if upgrade:
        fields.append((draw(_case_variants(b"Upgrade")), upgrade))
    fields.append((draw(_case_variants(b"Connection")), connection))
    if sent_key is not None:
        fields.append((b"Sec-WebSocket-Key", sent_key))
    if ws_version is not None:
        fields.append((b"Sec-WebSocket-Version", ws_version))
    if protocols:
        fields.append((b"Sec-WebSocket-Protocol", ", ".join(protocols).encode("ascii")))
    if draw(st.booleans()):
        fields.append((b"Origin", b"http://" + draw(_hosts)))
    for name in draw(st.lists(header_names(), max_size=3)):
        if not name.lower().startswith(b"sec-websocket"):
            fields.insert(draw(st.integers(0, len(fields))), (name, draw(header_values())))
    target = draw(targets(b"GET")) if method == b"GET" else b"/"
    if target == b"*":
        target = b"/"
    head = method + b" " + target + b" HTTP/" + version + b"\r\n"
    head += b"".join(name + b": " + value + b"\r\n" for name, value in fields) + b"\r\n"
    request = Request(method, target, fields, version)
    return WSHandshakeCase(head, request, key, accept_for(key), protocols, defect, status)


def ws_handshakes() -> st.SearchStrategy[WSHandshakeCase]:
    """A valid opening handshake (RFC 6455 4.1): GET over HTTP/1.1 with Upgrade,
    Connection: Upgrade, a fresh 16-byte key, version 13, optional subprotocols and
    Origin, among unrelated fields."""
    return _handshake(None)


@st.composite
def malformed_ws_handshakes(
    draw: st.DrawFn, *, defects: tuple[str, ...] = WS_HANDSHAKE_DEFECTS
) -> WSHandshakeCase:
    """An opening handshake with one defect from ``defects`` (see
    :data:`WS_HANDSHAKE_DEFECTS`); ``status_hint`` is the refusal RFC 6455 4.2.1-4.2.2
    calls for (400, 405 with ``Allow: GET``, 426 with ``Sec-WebSocket-Version: 13``)."""
    return draw(_handshake(draw(st.sampled_from(defects))))
