"""The opening handshake (RFC 6455 section 4) for both sides, as header lists.

The HTTP layer (``ClientConnection``/``ServerConnection``) carries the request and the
``101`` answer; these helpers say which headers to add and whether what came back is
acceptable. Header names and values are ``bytes`` pairs, as everywhere in the core.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence

from ._ws_deflate import PerMessageDeflate
from ._ws_events import HandshakeError

__all__ = [
    "WS_GUID",
    "ClientHandshake",
    "ServerHandshake",
    "accept_key",
    "generate_key",
]

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_Headers = list[tuple[bytes, bytes]]


def generate_key() -> bytes:
    """A fresh ``Sec-WebSocket-Key``: 16 random bytes, base64 (RFC 6455 4.1)."""
    return base64.b64encode(os.urandom(16))


def accept_key(key: bytes) -> bytes:
    """The ``Sec-WebSocket-Accept`` answering ``key`` (RFC 6455 4.2.2 step 5.4)."""
    return base64.b64encode(hashlib.sha1(key + WS_GUID).digest())


def _values(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    return [value for key, value in headers if key.lower() == name]


def _tokens(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    return [
        token.strip().lower()
        for value in _values(headers, name)
        for token in value.split(b",")
        if token.strip()
    ]


def _one(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    values = _values(headers, name)
    if len(values) > 1:
        raise HandshakeError(f"repeated {name.decode()} header")
    return values[0] if values else None


class ClientHandshake:
    """The client's half: headers to send, then a check of the server's answer.

    ``protocols``: subprotocols to offer, in preference order. ``deflate``: the
    permessage-deflate offer (``PerMessageDeflate(client_max_window_bits=0)`` is a
    common one), or None for no compression.
    """

    def __init__(
        self,
        *,
        protocols: Sequence[str] = (),
        deflate: PerMessageDeflate | None = None,
        key: bytes | None = None,
    ) -> None:
        self.key = key if key is not None else generate_key()
        self.protocols = tuple(protocols)
        self.deflate_offer = deflate

    def request_headers(self) -> _Headers:
        """The headers to add to the GET request (Host and Origin are the caller's)."""
        headers: _Headers = [
            (b"Upgrade", b"websocket"),
            (b"Connection", b"Upgrade"),
            (b"Sec-WebSocket-Key", self.key),
            (b"Sec-WebSocket-Version", b"13"),
        ]
        if self.protocols:
            headers.append((b"Sec-WebSocket-Protocol", ", ".join(self.protocols).encode()))
        if self.deflate_offer is not None:
            headers.append((b"Sec-WebSocket-Extensions", self.deflate_offer.offer().encode()))
        return headers

    def validate(
        self, status_code: int, headers: Sequence[tuple[bytes, bytes]]
    ) -> tuple[str | None, PerMessageDeflate | None]:
        """Check the answer (RFC 6455 4.1, client steps 1-6): ``(subprotocol, deflate)``.

        Raises :class:`HandshakeError` saying what is wrong; the client must then fail
        the connection.
        """
        if status_code != 101:
            raise HandshakeError(f"the server answered {status_code}, not 101")
        if b"websocket" not in _tokens(headers, b"upgrade"):
            raise HandshakeError("the answer lacks Upgrade: websocket")
        if b"upgrade" not in _tokens(headers, b"connection"):
            raise HandshakeError("the answer lacks Connection: upgrade")
        accept = _one(headers, b"sec-websocket-accept")
        if accept is None or accept.strip() != accept_key(self.key):
            raise HandshakeError("Sec-WebSocket-Accept does not match the key sent")
        protocol_value = _one(headers, b"sec-websocket-protocol")
        protocol = None
        if protocol_value is not None:
            protocol = protocol_value.strip().decode("latin-1")
            if protocol not in self.protocols:
                raise HandshakeError(f"the server chose subprotocol {protocol!r}, not offered")
        deflate = None
        extensions = _values(headers, b"sec-websocket-extensions")
        if extensions:
            value = b", ".join(extensions).decode("latin-1")
            if self.deflate_offer is None:
                raise HandshakeError(
                    f"the server accepted extensions that were not offered: {value}"
                )
            deflate = self.deflate_offer.accept_response(value)
        return protocol, deflate


class ServerHandshake:
    """The server's half: check an upgrade request, then build the ``101`` headers.

    Construct it from the request (raises :class:`HandshakeError` with the status and
    headers to answer with: 400, 405 with ``Allow: GET``, 426 with
    ``Sec-WebSocket-Version: 13``), then call :meth:`accept`.
    """

    def __init__(
        self,
        method: bytes,
        headers: Sequence[tuple[bytes, bytes]],
        http_version: bytes = b"1.1",
    ) -> None:
        if method != b"GET":
            raise HandshakeError(
                "a WebSocket handshake must be a GET request",
                status_hint=405,
                headers=[(b"Allow", b"GET")],
            )
        if http_version != b"1.1":
            raise HandshakeError("a WebSocket handshake needs HTTP/1.1")
        if b"websocket" not in _tokens(headers, b"upgrade"):
            raise HandshakeError("no Upgrade: websocket header")
        if b"upgrade" not in _tokens(headers, b"connection"):
            raise HandshakeError("no Connection: upgrade header")
        version = _one(headers, b"sec-websocket-version")
        if version is None or version.strip() != b"13":
            raise HandshakeError(
                "unsupported Sec-WebSocket-Version (only 13 is)",
                status_hint=426 if version is not None else 400,
                headers=[(b"Sec-WebSocket-Version", b"13")],
            )
        key = _one(headers, b"sec-websocket-key")
        if key is None:
            raise HandshakeError("no Sec-WebSocket-Key header")
        key = key.strip()
        try:
            raw = base64.b64decode(key, validate=True)
        except binascii.Error:
            raw = b""
        if len(raw) != 16:
            raise HandshakeError("Sec-WebSocket-Key is not 16 base64-encoded bytes")
        self.key = key
        self.offered_protocols: list[str] = [
            token.decode("latin-1")
            for value in _values(headers, b"sec-websocket-protocol")
            for token in (piece.strip() for piece in value.split(b","))
            if token
        ]
        self.offered_extensions = b", ".join(_values(headers, b"sec-websocket-extensions"))

    def choose_protocol(self, supported: Sequence[str]) -> str | None:
        """The first subprotocol the client offered that we support (aiohttp's rule)."""
        for protocol in self.offered_protocols:
            if protocol in supported:
                return protocol
        return None

    def accept(
        self, *, protocols: Sequence[str] = (), compress: bool = True
    ) -> tuple[_Headers, str | None, PerMessageDeflate | None]:
        """``(headers for the 101, chosen subprotocol, agreed deflate params)``.

        Send ``InformationalResponse(101, headers)``; pass the deflate params to
        ``WebSocketConnection("server", deflate=...)``.
        """
        headers: _Headers = [
            (b"Upgrade", b"websocket"),
            (b"Connection", b"Upgrade"),
            (b"Sec-WebSocket-Accept", accept_key(self.key)),
        ]
        protocol = self.choose_protocol(protocols)
        if protocol is not None:
            headers.append((b"Sec-WebSocket-Protocol", protocol.encode("latin-1")))
        deflate = None
        if compress and self.offered_extensions:
            agreed = PerMessageDeflate.negotiate(self.offered_extensions.decode("latin-1"))
            if agreed is not None:
                deflate, answer = agreed
                headers.append((b"Sec-WebSocket-Extensions", answer.encode()))
        return headers, protocol, deflate
