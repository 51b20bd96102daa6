"""XOR masking of frame payloads (RFC 6455 section 5.3), as fast as pure Python gets.

Two pure-Python strategies, picked by size (measured crossover about 2 KiB): small
payloads as one big-integer XOR, large ones with ``bytes.translate`` over the four
byte lanes (one 256-byte table per mask byte). When the ``websockets`` package's C
helper is importable it is used instead (about 35x faster on 1 MiB); set
``TREADLE_WS_MASK=python`` to keep the pure-Python code.
"""

from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ["ACCELERATED", "apply_mask", "python_mask"]

_SMALL = 2048
_TABLES = [bytes(a ^ b for a in range(256)) for b in range(256)]


def python_mask(data: bytes | bytearray | memoryview, mask: bytes | bytearray) -> bytes:
    """``data`` XOR the repeated 4-byte ``mask``."""
    n = len(data)
    if n < _SMALL:
        q, r = divmod(n, 4)
        key = int.from_bytes(mask * q + mask[:r], "little")
        return (int.from_bytes(data, "little") ^ key).to_bytes(n, "little")
    out = bytearray(data)
    t0, t1, t2, t3 = (_TABLES[b] for b in mask)
    out[0::4] = out[0::4].translate(t0)
    out[1::4] = out[1::4].translate(t1)
    out[2::4] = out[2::4].translate(t2)
    out[3::4] = out[3::4].translate(t3)
    return bytes(out)


def _pick() -> tuple[Callable[[bytes | bytearray | memoryview, bytes | bytearray], bytes], bool]:
    if os.environ.get("TREADLE_WS_MASK", "").lower() == "python":
        return python_mask, False
    try:
        from websockets.speedups import apply_mask as c_mask
    except ImportError:  # pragma: no cover - websockets is a dev dependency here
        return python_mask, False
    return c_mask, True


apply_mask, ACCELERATED = _pick()
