"""Masking (RFC 6455 5.3): the pure-Python strategies agree with a byte-by-byte XOR."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from treadle.protocol._ws_mask import apply_mask, python_mask


def reference(data: bytes, mask: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=5000), st.binary(min_size=4, max_size=4))
def test_masks_agree(data: bytes, mask: bytes) -> None:
    expected = reference(data, mask)
    assert python_mask(data, mask) == expected
    assert python_mask(memoryview(bytearray(data)), bytearray(mask)) == expected
    assert apply_mask(data, mask) == expected


def test_large_payload_uses_the_lane_strategy() -> None:
    data = bytes(range(256)) * 64 + b"tail!"  # over the 2 KiB switch, not a multiple of 4
    assert python_mask(data, b"\x01\x80\xff\x00") == reference(data, b"\x01\x80\xff\x00")
