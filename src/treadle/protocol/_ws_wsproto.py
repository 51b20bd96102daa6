"""The reference frame engine: wsproto's ``FrameDecoder`` and frame serializer.

wsproto parses and checks each header and unmasks payloads; a small wsproto extension
object lets RSV1 through when permessage-deflate was agreed (treadle inflates, bounded,
in the connection) and refuses oversized frames as soon as their header is read.
Frames wsproto delivers in pieces are joined, so this engine, like the fast one, hands
the connection whole frames.
"""

from __future__ import annotations

from typing import Any

from wsproto.extensions import Extension
from wsproto.frame_protocol import (
    FrameDecoder,
    FrameProtocol,
    Opcode,
    ParseFailed,
    RsvBits,
)

from ._ws_events import CloseCode, WebSocketProtocolError
from ._ws_frames import Frame, FrameEngine

__all__ = ["WsprotoFrameEngine"]


class _Gate(Extension):
    """Claims RSV1 for permessage-deflate and applies the frame-size limit."""

    name = "treadle-gate"

    def __init__(self, allow_rsv1: bool, max_frame_size: int) -> None:
        self.allow_rsv1 = allow_rsv1
        self.max_frame_size = max_frame_size
        self.rsv1 = False
        self.out_rsv1 = False

    def enabled(self) -> bool:
        return True

    def offer(self) -> bool:  # never negotiated through wsproto: treadle does that
        return False

    def frame_inbound_header(
        self, proto: Any, opcode: Opcode, rsv: RsvBits, payload_length: int
    ) -> RsvBits:
        if rsv.rsv2 or rsv.rsv3 or (rsv.rsv1 and not self.allow_rsv1):
            raise WebSocketProtocolError("reserved bits set without an extension that uses them")
        if self.max_frame_size and payload_length > self.max_frame_size:
            raise WebSocketProtocolError(
                f"frame of {payload_length} bytes over the limit of {self.max_frame_size}",
                CloseCode.MESSAGE_TOO_BIG,
            )
        self.rsv1 = rsv.rsv1
        return RsvBits(rsv.rsv1, False, False)

    def frame_outbound(
        self, proto: Any, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool
    ) -> tuple[RsvBits, bytes]:
        return RsvBits(self.out_rsv1, False, False), data


class WsprotoFrameEngine(FrameEngine):
    """Frames parsed and serialized by wsproto (pure Python, the reference)."""

    __slots__ = ("_decoder", "_gate", "_opcode", "_pieces", "_protocol")

    def __init__(self, *, client: bool, allow_rsv1: bool = False, max_frame_size: int = 0) -> None:
        self._gate = _Gate(allow_rsv1, max_frame_size)
        self._decoder = FrameDecoder(client, [self._gate])
        self._protocol = FrameProtocol(client, [self._gate])
        self._pieces: list[bytes] = []
        self._opcode = 0

    def receive_data(self, data: bytes) -> None:
        self._decoder.receive_bytes(data)

    def next_frame(self) -> Frame | None:
        while True:
            try:
                frame = self._decoder.process_buffer()
            except ParseFailed as exc:
                raise WebSocketProtocolError(str(exc), exc.code) from None
            if frame is None:
                return None
            payload = frame.payload
            assert isinstance(payload, bytes)
            if not frame.frame_finished:
                if not self._pieces:
                    self._opcode = int(frame.opcode)
                self._pieces.append(payload)
                continue
            opcode = int(frame.opcode)
            if self._pieces:
                self._pieces.append(payload)
                payload = b"".join(self._pieces)
                self._pieces.clear()
                opcode = self._opcode
            return opcode, payload, frame.message_finished, self._gate.rsv1

    def serialize(self, opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False) -> bytes:
        self._gate.out_rsv1 = rsv1
        return bytes(self._protocol._serialize_frame(Opcode(opcode), payload, fin))
