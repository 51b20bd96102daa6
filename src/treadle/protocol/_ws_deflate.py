"""permessage-deflate (RFC 7692): negotiation and a bounded per-message codec.

Negotiation turns ``Sec-WebSocket-Extensions`` values into a :class:`PerMessageDeflate`
(the agreed parameters); :class:`DeflateCodec` then compresses our messages and inflates
the peer's without ever producing more than the message-size limit allows, so a small
"zip bomb" frame cannot make us allocate more than ``max_message_size`` (+1) bytes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from ._ws_events import CloseCode, HandshakeError, WebSocketProtocolError

__all__ = [
    "DeflateCodec",
    "PerMessageDeflate",
    "format_extensions",
    "parse_extensions",
]

EXTENSION_NAME = "permessage-deflate"
_TAIL = b"\x00\x00\xff\xff"  # RFC 7692 7.2.1: the empty stored block removed by senders
_PARAMS = (
    "server_no_context_takeover",
    "client_no_context_takeover",
    "server_max_window_bits",
    "client_max_window_bits",
)

ExtensionOffer = tuple[str, list[tuple[str, str | None]]]


def parse_extensions(value: str) -> list[ExtensionOffer]:
    """Split a ``Sec-WebSocket-Extensions`` value (RFC 6455 9.1) into names and params.

    ``"permessage-deflate; client_max_window_bits, x"`` gives
    ``[("permessage-deflate", [("client_max_window_bits", None)]), ("x", [])]``.
    Quoted parameter values are unquoted; a malformed element raises ``ValueError``.
    """
    result: list[ExtensionOffer] = []
    for element in value.split(","):
        if not element.strip():
            continue
        name, *raw_params = (part.strip() for part in element.split(";"))
        if not _is_token(name):
            raise ValueError(f"invalid extension name {name!r}")
        params: list[tuple[str, str | None]] = []
        for raw in raw_params:
            key, sep, val = (piece.strip() for piece in raw.partition("="))
            if not _is_token(key):
                raise ValueError(f"invalid extension parameter {raw!r}")
            if not sep:
                params.append((key.lower(), None))
                continue
            if len(val) >= 2 and val[0] == val[-1] == '"':
                val = val[1:-1]
            if not _is_token(val):
                raise ValueError(f"invalid extension parameter value {raw!r}")
            params.append((key.lower(), val))
        result.append((name.lower(), params))
    return result


def _is_token(text: str) -> bool:
    return bool(text) and all(c.isascii() and (c.isalnum() or c in "!#$%&'*+-.^_`|~") for c in text)


def format_extensions(offers: list[ExtensionOffer]) -> str:
    """The inverse of :func:`parse_extensions`."""
    out = []
    for name, params in offers:
        out.append("; ".join([name, *(k if v is None else f"{k}={v}" for k, v in params)]))
    return ", ".join(out)


def _window_bits(value: str | None, *, allow_empty: bool) -> int | None:
    if value is None:
        if allow_empty:
            return None
        raise ValueError("a window-bits parameter needs a value")
    if not value.isdigit() or len(value) > 2 or not 8 <= int(value) <= 15:
        raise ValueError(f"window bits must be 8 to 15, not {value!r}")
    return int(value)


@dataclass(frozen=True)
class PerMessageDeflate:
    """permessage-deflate parameters (RFC 7692 section 7.1), offered or agreed.

    ``*_max_window_bits`` None means "not stated" (15, the maximum, applies); a client
    offer with ``client_max_window_bits=0`` sends the parameter without a value ("I can
    limit my window if you ask").
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int | None = None
    client_max_window_bits: int | None = None

    # -- client side ------------------------------------------------------------------

    def offer(self) -> str:
        """The client's ``Sec-WebSocket-Extensions`` value offering these parameters."""
        params: list[tuple[str, str | None]] = []
        if self.server_no_context_takeover:
            params.append(("server_no_context_takeover", None))
        if self.client_no_context_takeover:
            params.append(("client_no_context_takeover", None))
        if self.server_max_window_bits is not None:
            params.append(("server_max_window_bits", str(self.server_max_window_bits)))
        if self.client_max_window_bits is not None:
            bits = self.client_max_window_bits
            params.append(("client_max_window_bits", str(bits) if bits else None))
        return format_extensions([(EXTENSION_NAME, params)])

    def accept_response(self, value: str) -> PerMessageDeflate:
        """Check the server's answer to :meth:`offer` (RFC 7692 7.1); the agreed params.

        Raises :class:`HandshakeError` when the server answers with something not offered
        or not allowed, as the client must then fail the connection.
        """
        try:
            answers = parse_extensions(value)
        except ValueError as exc:
            raise HandshakeError(f"invalid Sec-WebSocket-Extensions: {exc}") from None
        if len(answers) != 1 or answers[0][0] != EXTENSION_NAME:
            raise HandshakeError(f"the server accepted extensions that were not offered: {value}")
        try:
            params = _param_dict(answers[0][1])
            server_bits = _window_bits(params.get("server_max_window_bits"), allow_empty=True)
            client_bits = _window_bits(params.get("client_max_window_bits"), allow_empty=True)
            if "server_max_window_bits" in params and server_bits is None:
                raise ValueError("server_max_window_bits needs a value")
        except ValueError as exc:
            raise HandshakeError(f"invalid permessage-deflate answer: {exc}") from None
        if self.server_no_context_takeover and "server_no_context_takeover" not in params:
            raise HandshakeError("the server ignored server_no_context_takeover")
        if self.server_max_window_bits is not None and (
            server_bits is None or server_bits > self.server_max_window_bits
        ):
            raise HandshakeError("the server ignored server_max_window_bits")
        if "client_max_window_bits" in params:
            if self.client_max_window_bits is None:
                raise HandshakeError("client_max_window_bits was not offered")
            if client_bits is None:
                raise HandshakeError("client_max_window_bits needs a value in an answer")
        if client_bits == 8:
            raise HandshakeError("client_max_window_bits=8 is not supported by zlib")
        return PerMessageDeflate(
            server_no_context_takeover="server_no_context_takeover" in params,
            # RFC 7692 7.1.1.2: offering it is a promise kept whatever the server answers.
            client_no_context_takeover=self.client_no_context_takeover
            or "client_no_context_takeover" in params,
            server_max_window_bits=server_bits,
            client_max_window_bits=client_bits,
        )

    # -- server side ------------------------------------------------------------------

    @classmethod
    def negotiate(cls, value: str) -> tuple[PerMessageDeflate, str] | None:
        """Accept the first acceptable permessage-deflate offer in a client's header.

        Returns the agreed parameters and the answer's header value, or None when there
        is no offer we can accept (then answer without the header: no compression).
        """
        try:
            offers = parse_extensions(value)
        except ValueError:
            return None
        for name, raw in offers:
            if name != EXTENSION_NAME:
                continue
            try:
                params = _param_dict(raw)
                server_bits = (
                    _window_bits(params.get("server_max_window_bits"), allow_empty=False)
                    if "server_max_window_bits" in params
                    else None
                )
                client_bits = _window_bits(params.get("client_max_window_bits"), allow_empty=True)
            except ValueError:
                continue
            if server_bits == 8:
                continue  # zlib cannot compress with a 256-byte window
            for flag in ("server_no_context_takeover", "client_no_context_takeover"):
                if flag in params and params[flag] is not None:
                    break
            else:
                agreed = cls(
                    server_no_context_takeover="server_no_context_takeover" in params,
                    client_no_context_takeover="client_no_context_takeover" in params,
                    server_max_window_bits=server_bits,
                    client_max_window_bits=client_bits,
                )
                answer: list[tuple[str, str | None]] = []
                if agreed.server_no_context_takeover:
                    answer.append(("server_no_context_takeover", None))
                if agreed.client_no_context_takeover:
                    answer.append(("client_no_context_takeover", None))
                if server_bits is not None:
                    answer.append(("server_max_window_bits", str(server_bits)))
                if client_bits is not None:
                    answer.append(("client_max_window_bits", str(client_bits)))
                return agreed, format_extensions([(EXTENSION_NAME, answer)])
        return None


def _param_dict(params: list[tuple[str, str | None]]) -> dict[str, str | None]:
    result: dict[str, str | None] = {}
    for key, value in params:
        if key not in _PARAMS:
            raise ValueError(f"unknown permessage-deflate parameter {key!r}")
        if key in result:
            raise ValueError(f"repeated permessage-deflate parameter {key!r}")
        result[key] = value
    return result


class DeflateCodec:
    """Compresses outgoing and inflates incoming messages for one connection.

    Inflation is bounded: :meth:`inflate` never returns more than ``limit`` bytes and
    raises 1009 instead; zlib stops at ``limit + 1`` output bytes, so nothing past the
    limit is ever produced or buffered.
    """

    __slots__ = (
        "_compressor",
        "_decompressor",
        "_reset_compressor",
        "_reset_decompressor",
        "_wbits",
    )

    def __init__(self, params: PerMessageDeflate, *, client: bool) -> None:
        if client:
            bits = params.client_max_window_bits
            self._reset_compressor = params.client_no_context_takeover
            self._reset_decompressor = params.server_no_context_takeover
        else:
            bits = params.server_max_window_bits
            self._reset_compressor = params.server_no_context_takeover
            self._reset_decompressor = params.client_no_context_takeover
        self._wbits = -(bits or 15)
        self._compressor = zlib.compressobj(wbits=self._wbits)
        # Inflating with the largest window decodes any window size the peer used.
        self._decompressor = zlib.decompressobj(wbits=-15)

    def compress(self, data: bytes) -> bytes:
        """One whole message's payload, deflated and with the sync tail stripped (7.2.1)."""
        compressor = self._compressor
        out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        if self._reset_compressor:
            self._compressor = zlib.compressobj(wbits=self._wbits)
        if out.endswith(_TAIL):
            out = out[:-4]
        return out or b"\x00"

    def inflate(self, data: bytes, limit: int | None, final: bool) -> bytes:
        """Inflate one frame's payload; ``final`` on the message's last frame.

        ``limit`` is how many bytes the message may still grow by (None: no limit).
        """
        decompressor = self._decompressor
        try:
            if limit is None:
                out = decompressor.decompress(data)
                if final:
                    out += decompressor.decompress(_TAIL)
            else:
                out = decompressor.decompress(data, limit + 1)
                if final and len(out) <= limit:
                    out += decompressor.decompress(_TAIL, limit + 1 - len(out))
        except zlib.error as exc:
            raise WebSocketProtocolError(
                f"invalid compressed data: {exc}", CloseCode.INVALID_TEXT
            ) from None
        if limit is not None and len(out) > limit:
            raise WebSocketProtocolError("message too big once inflated", CloseCode.MESSAGE_TOO_BIG)
        if final and self._reset_decompressor:
            self._decompressor = zlib.decompressobj(wbits=-15)
        return out
