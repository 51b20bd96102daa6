"""Content codings: round trips, stacking, bombs, truncation, corruption."""

from __future__ import annotations

import itertools
import os
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from treadle.message import (
    HAS_BROTLI,
    HAS_ZSTD,
    ContentDecoder,
    ContentEncoder,
    DecompressionError,
    DecompressionSizeError,
    UnsupportedEncodingError,
    accepted_encodings,
    compress,
    decompress,
    supported_encodings,
)

CODECS = [
    "gzip",
    "deflate",
    pytest.param("br", marks=pytest.mark.skipif(not HAS_BROTLI, reason="brotli missing")),
    pytest.param("zstd", marks=pytest.mark.skipif(not HAS_ZSTD, reason="zstandard missing")),
]
STACKS = ["gzip, deflate", "deflate, gzip, gzip"]
if HAS_BROTLI:
    STACKS.append("gzip, br")
if HAS_ZSTD and HAS_BROTLI:
    STACKS.append("br, zstd, gzip")
PAYLOAD = os.urandom(3000) + b"treadle " * 20000


def decode_in_pieces(data: bytes, encoding: str, piece: int, **kw: int | None) -> bytes:
    decoder = ContentDecoder(encoding, **kw)
    out = [decoder.decompress(data[i : i + piece]) for i in range(0, len(data), piece)]
    return b"".join(out) + decoder.flush()


@pytest.mark.parametrize("encoding", CODECS)
@pytest.mark.parametrize("piece", [1, 13, 4096, 10**9])
def test_round_trip_chunk_by_chunk(encoding: str, piece: int) -> None:
    data = PAYLOAD if piece > 1 else PAYLOAD[:5000]
    packed = compress(data, encoding)
    assert packed != data and len(packed) < len(data)
    assert decode_in_pieces(packed, encoding, piece) == data


@pytest.mark.parametrize("encoding", STACKS)
def test_stacked_codings_are_undone_in_reverse(encoding: str) -> None:
    packed = compress(PAYLOAD, encoding)
    assert decode_in_pieces(packed, encoding, 1000) == PAYLOAD
    # Applied left to right, so the outermost (last) coding is what is on the wire:
    # naming the same codings in the other order must fail on the data itself.
    swapped = ", ".join(reversed(encoding.split(", ")))
    with pytest.raises(DecompressionError) as info:
        decompress(packed, swapped)
    assert not isinstance(info.value, UnsupportedEncodingError)


def test_incremental_encoder_matches_one_shot_decoder() -> None:
    encoder = ContentEncoder("gzip, deflate", level=9)
    wire = b"".join(encoder.compress(PAYLOAD[i : i + 999]) for i in range(0, len(PAYLOAD), 999))
    wire += encoder.flush()
    assert encoder.flush() == b""
    assert decompress(wire, "gzip, deflate") == PAYLOAD
    with pytest.raises(RuntimeError):
        encoder.compress(b"more")


@pytest.mark.parametrize("encoding", CODECS)
def test_bomb_stops_at_max_size(encoding: str) -> None:
    bomb = compress(b"\0" * (64 * 2**20), encoding)
    assert len(bomb) < 2**17
    decoder = ContentDecoder(encoding, max_size=2**20)
    produced = 0
    with pytest.raises(DecompressionSizeError) as info:
        for piece in decoder.iter_decompress(bomb):
            produced += len(piece)
            assert len(piece) <= 2**17 or encoding == "zstd"  # brotli overshoots a bit
    assert info.value.status_hint == 413
    assert "max_size=1048576" in str(info.value)
    # Never much more than the limit was materialised before the error.
    assert produced <= 2**20 + 3 * 2**20


@pytest.mark.parametrize("encoding", ["gzip, gzip", "deflate, gzip"])
def test_bomb_inside_a_stack(encoding: str) -> None:
    bomb = compress(b"\0" * (32 * 2**20), encoding)
    with pytest.raises(DecompressionSizeError):
        decompress(bomb, encoding, max_size=2**20)
    assert len(decompress(bomb, encoding, max_size=None)) == 32 * 2**20


@pytest.mark.parametrize("encoding", CODECS)
def test_exactly_max_size_is_allowed(encoding: str) -> None:
    data = b"x" * 5000
    assert decompress(compress(data, encoding), encoding, max_size=5000) == data
    with pytest.raises(DecompressionSizeError):
        decompress(compress(data, encoding), encoding, max_size=4999)


@pytest.mark.parametrize("encoding", CODECS)
@pytest.mark.parametrize("cut", [1, 3, 20, 0.5])
def test_truncated_stream_raises_at_end(encoding: str, cut: float) -> None:
    packed = compress(PAYLOAD, encoding)
    keep = int(len(packed) * cut) if isinstance(cut, float) else len(packed) - cut
    decoder = ContentDecoder(encoding)
    partial = decoder.decompress(packed[:keep])
    assert PAYLOAD.startswith(partial)
    with pytest.raises(DecompressionError, match="truncated"):
        decoder.flush()


@pytest.mark.parametrize("encoding", CODECS)
def test_corrupt_stream_raises(encoding: str) -> None:
    packed = bytearray(compress(PAYLOAD, encoding))
    packed[len(packed) // 2 : len(packed) // 2 + 40] = b"\xff" * 40
    with pytest.raises(DecompressionError):
        decompress(bytes(packed), encoding, max_size=None)


@pytest.mark.parametrize("encoding", CODECS)
def test_empty_body_is_empty(encoding: str) -> None:
    assert decompress(b"", encoding) == b""


def test_deflate_accepts_raw_and_zlib_wrapped() -> None:
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw_data = raw.compress(PAYLOAD) + raw.flush()
    assert decode_in_pieces(raw_data, "deflate", 1) == PAYLOAD
    assert decode_in_pieces(zlib.compress(PAYLOAD), "deflate", 1) == PAYLOAD


def test_deflate_rejects_trailing_garbage() -> None:
    with pytest.raises(DecompressionError, match="after the end"):
        decompress(zlib.compress(b"abc") + b"junk", "deflate")


def test_gzip_members_are_concatenated() -> None:
    wire = compress(b"first ", "gzip") + compress(b"second", "gzip")
    assert decode_in_pieces(wire, "gzip", 5) == b"first second"
    with pytest.raises(DecompressionError):
        decompress(compress(b"a", "gzip") + b"not gzip", "gzip")


def test_identity_and_aliases() -> None:
    assert decompress(b"plain", "identity") == b"plain"
    assert decompress(b"plain", "") == b"plain"
    assert decompress(compress(b"z", "gzip"), " X-GZIP ") == b"z"
    assert compress(b"plain", "identity") == b"plain"


def test_unknown_and_too_many_codings() -> None:
    with pytest.raises(UnsupportedEncodingError, match="compress") as info:
        ContentDecoder("compress")
    assert info.value.status_hint == 415
    with pytest.raises(DecompressionError, match="stacked"):
        ContentDecoder(", ".join(["gzip"] * 6))


def test_flush_twice_and_feed_after_flush() -> None:
    decoder = ContentDecoder("gzip")
    assert decoder.decompress(compress(b"x", "gzip")) == b"x"
    assert decoder.flush() == b""
    assert decoder.flush() == b""
    with pytest.raises(RuntimeError):
        decoder.decompress(b"more")


def test_accepted_encodings_lists_what_we_decode() -> None:
    names = [n.strip() for n in accepted_encodings().split(",")]
    assert names[:2] == ["gzip", "deflate"]
    assert ("br" in names) == HAS_BROTLI
    assert ("zstd" in names) == HAS_ZSTD
    assert tuple(names) == supported_encodings()
    for name in names:
        assert decompress(compress(b"ok", name), name) == b"ok"


@pytest.mark.skipif(not HAS_ZSTD, reason="zstandard missing")
def test_zstd_multiple_frames_and_large_window_refused() -> None:
    import zstandard

    wire = compress(b"one,", "zstd") + compress(b"two", "zstd")
    assert decode_in_pieces(wire, "zstd", 3) == b"one,two"
    # RFC 9659: a frame asking for a window above 8 MiB is refused, not allocated.
    params = zstandard.ZstdCompressionParameters.from_level(
        3, window_log=27, write_content_size=False
    )
    stream = zstandard.ZstdCompressor(compression_params=params).compressobj()
    big = stream.compress(b"a" * 2**20) + stream.flush()
    with pytest.raises(DecompressionError, match="memory"):
        decompress(big, "zstd")


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=3000),
    encoding=st.sampled_from(supported_encodings()),
    cuts=st.lists(st.integers(0, 3000), max_size=6),
)
def test_split_points_never_change_the_result(data: bytes, encoding: str, cuts: list[int]) -> None:
    packed = compress(data, encoding)
    edges = sorted({0, len(packed), *(c for c in cuts if c < len(packed))})
    decoder = ContentDecoder(encoding)
    out = b"".join(decoder.decompress(packed[a:b]) for a, b in itertools.pairwise(edges))
    assert out + decoder.flush() == data


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=200), encoding=st.sampled_from(supported_encodings()))
def test_garbage_only_raises_decompression_errors(data: bytes, encoding: str) -> None:
    decoder = ContentDecoder(encoding, max_size=10_000)
    try:
        out = decoder.decompress(data) + decoder.flush()
    except DecompressionError:
        return
    assert len(out) <= 10_000
