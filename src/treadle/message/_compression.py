"""Content codings (RFC 9110 8.4): gzip, deflate, br (RFC 7932), zstd (RFC 8878/9659).

Decoding is incremental and bounded. A :class:`ContentDecoder` is fed the body chunk by
chunk and never produces more than ``max_size`` bytes in total (each stage asks its
library for at most the remaining budget plus one byte, so a zip bomb is stopped before it
fills memory), and :meth:`ContentDecoder.flush` raises when the input ended before the
compressed stream did, so a truncated body is an error rather than a shorter body.

The work is synchronous and CPU-bound: callers that decode large bodies may run it in a
thread with whatever their backend offers. Nothing here touches an event loop.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ._errors import DecompressionError, DecompressionSizeError, UnsupportedEncodingError

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "HAS_BROTLI",
    "HAS_ZSTD",
    "ContentDecoder",
    "ContentEncoder",
    "accepted_encodings",
    "compress",
    "decompress",
    "supported_encodings",
]

_brotli: Any
_zstd: Any
try:
    _brotli = importlib.import_module("brotli")
except ImportError:  # pragma: no cover - depends on the environment
    _brotli = None
try:
    _zstd = importlib.import_module("zstandard")
except ImportError:  # pragma: no cover - depends on the environment
    _zstd = None

HAS_BROTLI = _brotli is not None
HAS_ZSTD = _zstd is not None


def _brotli_limits_output() -> bool:
    """Whether brotli's ``process`` takes ``output_buffer_limit`` (brotli >= 1.2)."""
    try:
        _brotli.Decompressor().process(b"", output_buffer_limit=1)
    except TypeError:  # pragma: no cover - brotli < 1.2
        return False
    return True


_BROTLI_LIMITED = HAS_BROTLI and _brotli_limits_output()

#: Default bound on decompressed output (32 MiB, aiohttp's default for the same purpose).
DEFAULT_MAX_DECOMPRESSED_SIZE = 2**25
#: At most this many stacked codings are undone (urllib3 uses the same cap): each one
#: multiplies the work a few bytes from the peer can cause.
MAX_STACKED_CODINGS = 5
_CHUNK = 2**16
# RFC 9659 3: HTTP zstd decoders need not support windows above 8 MiB; refusing larger
# ones bounds the memory a peer can make us allocate.
_ZSTD_MAX_WINDOW = 2**23
# zstd can expand one 4-byte RLE block to 128 KiB: the output bound per input byte.
_ZSTD_MAX_RATIO = 2**15
_ALIASES = {"x-gzip": "gzip"}


def supported_encodings() -> tuple[str, ...]:
    """Codings this installation decodes and encodes, best first."""
    names = ["gzip", "deflate"]
    if HAS_BROTLI:
        names.append("br")
    if HAS_ZSTD:
        names.append("zstd")
    return tuple(names)


def accepted_encodings() -> str:
    """An Accept-Encoding value (RFC 9110 12.5.3) listing every coding we can decode."""
    return ", ".join(supported_encodings())


def _codings(encoding: str) -> list[str]:
    """The codings of a Content-Encoding value in the order they were applied."""
    names = [_ALIASES.get(c.strip().lower(), c.strip().lower()) for c in encoding.split(",")]
    names = [name for name in names if name and name != "identity"]
    if len(names) > MAX_STACKED_CODINGS:
        raise DecompressionError(
            f"{len(names)} stacked content codings in {encoding!r}; "
            f"at most {MAX_STACKED_CODINGS} are decoded"
        )
    for name in names:
        if name not in supported_encodings():
            hint = " (install brotli or zstandard)" if name in ("br", "zstd") else ""
            raise UnsupportedEncodingError(f"unsupported content coding {name!r}{hint}")
    return names


class _Stage:
    """One coding's decoder; ``budget`` is the number of bytes it may still produce."""

    name = ""

    def __init__(self) -> None:
        self.fed = 0

    def feed(self, data: bytes, budget: int) -> Iterator[bytes]:
        raise NotImplementedError

    def finish(self, budget: int) -> Iterator[bytes]:
        raise NotImplementedError

    def _truncated(self) -> DecompressionError:
        return DecompressionError(
            f"{self.name} data ended before the end of the compressed stream (truncated body)"
        )


class _ZlibStage(_Stage):
    """gzip (any number of members) or deflate (zlib-wrapped or raw, as sent in the wild)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self._head = b""
        self._obj: Any = zlib.decompressobj(16 + zlib.MAX_WBITS) if name == "gzip" else None

    def feed(self, data: bytes, budget: int) -> Iterator[bytes]:
        self.fed += len(data)
        if self._obj is None:
            # RFC 9110 says zlib (RFC 1950), many servers send raw deflate (RFC 1951):
            # a zlib header is CM=8 with a check value making the first two bytes % 31 == 0.
            self._head += data
            if len(self._head) < 2:
                return
            cmf, flg = self._head[0], self._head[1]
            is_zlib = cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0
            self._obj = zlib.decompressobj(zlib.MAX_WBITS if is_zlib else -zlib.MAX_WBITS)
            data, self._head = self._head, b""
        yield from self._run(data, budget)

    def _run(self, data: bytes, budget: int) -> Iterator[bytes]:
        try:
            while True:
                limit = min(_CHUNK, budget + 1)
                out = self._obj.decompress(data, limit)
                budget -= len(out)
                if out:
                    yield out
                if budget < 0:
                    return
                if self._obj.eof:
                    rest = self._obj.unused_data
                    if not rest:
                        return
                    if self.name != "gzip":
                        raise DecompressionError("data after the end of the deflate stream")
                    self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)  # next member
                    data = rest
                    continue
                data = self._obj.unconsumed_tail
                if not data and len(out) < limit:
                    return
        except zlib.error as exc:
            raise DecompressionError(f"invalid {self.name} data: {exc}") from exc

    def finish(self, budget: int) -> Iterator[bytes]:
        if self.fed == 0:
            return  # an empty body with a Content-Encoding header: nothing to decode
        if self._obj is None:
            raise self._truncated()
        yield from self._run(b"", budget)
        if not self._obj.eof:
            raise self._truncated()


class _BrotliStage(_Stage):
    name = "br"

    def __init__(self) -> None:
        super().__init__()
        self._obj = _brotli.Decompressor()

    def feed(self, data: bytes, budget: int) -> Iterator[bytes]:
        self.fed += len(data)
        try:
            if not _BROTLI_LIMITED:  # pragma: no cover - brotli < 1.2 has no output limit
                for start in range(0, len(data), 64):
                    out = self._obj.process(data[start : start + 64])
                    budget -= len(out)
                    yield out
                    if budget < 0:
                        return
                return
            limit = min(_CHUNK, budget + 1)
            out = self._obj.process(data, output_buffer_limit=limit)
            while True:
                budget -= len(out)
                if out:
                    yield out
                # A full output buffer may leave output pending even when more input
                # could be accepted: drain with empty input until a short read.
                if budget < 0 or (len(out) < limit and self._obj.can_accept_more_data()):
                    return
                limit = min(_CHUNK, budget + 1)
                out = self._obj.process(b"", output_buffer_limit=limit)
        except _brotli.error as exc:
            raise DecompressionError(f"invalid br data: {exc}") from exc

    def finish(self, budget: int) -> Iterator[bytes]:
        if self.fed and not self._obj.is_finished():
            raise self._truncated()
        return iter(())


class _ZstdStage(_Stage):
    name = "zstd"

    def __init__(self) -> None:
        super().__init__()
        self._factory = _zstd.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
        self._obj = self._factory.decompressobj()
        self._in_frame = False

    def feed(self, data: bytes, budget: int) -> Iterator[bytes]:
        self.fed += len(data)
        view = memoryview(data)
        try:
            while view:
                # zstandard has no output limit: feed slices small enough that even the
                # densest frame cannot exceed the remaining budget by more than 2 MiB.
                step = max(64, budget // _ZSTD_MAX_RATIO)
                piece, view = view[:step], view[step:]
                self._in_frame = True
                out = self._obj.decompress(piece)
                budget -= len(out)
                if out:
                    yield out
                if budget < 0:
                    return
                if self._obj.eof:  # a body may hold several frames (RFC 8878 3)
                    rest = self._obj.unused_data
                    self._obj = self._factory.decompressobj()
                    self._in_frame = False
                    view = memoryview(bytes(rest) + bytes(view))
        except _zstd.ZstdError as exc:
            raise DecompressionError(f"invalid zstd data: {exc}") from exc

    def finish(self, budget: int) -> Iterator[bytes]:
        if self._in_frame:
            raise self._truncated()
        return iter(())


def _make_stage(name: str) -> _Stage:
    if name == "br":
        return _BrotliStage()
    if name == "zstd":
        return _ZstdStage()
    return _ZlibStage(name)


class ContentDecoder:
    """Incremental decoder for a Content-Encoding value, e.g. ``"gzip"`` or ``"gzip, br"``.

    Feed the body with :meth:`decompress` (or :meth:`iter_decompress` for output in
    pieces of about 64 KiB), then call :meth:`flush` once at the end of the body. Each
    stage's output is bounded by ``max_size`` (None: unbounded); exceeding it raises
    :class:`DecompressionSizeError`. Corrupt data raises :class:`DecompressionError`,
    an unknown coding :class:`UnsupportedEncodingError` (from the constructor).
    """

    def __init__(
        self, encoding: str, *, max_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE
    ) -> None:
        self.encoding = encoding
        self.max_size = max_size
        # Codings are undone in the reverse of the order they were applied (RFC 9110 8.4).
        self._stages = [_make_stage(name) for name in reversed(_codings(encoding))]
        self._produced = [0] * len(self._stages)
        self._finished = False

    def _bounded(self, index: int, pieces: Iterator[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            self._produced[index] += len(piece)
            if self.max_size is not None and self._produced[index] > self.max_size:
                raise DecompressionSizeError(
                    f"decompressed {self._stages[index].name} body exceeds max_size="
                    f"{self.max_size} bytes; raise the limit if this body is legitimate"
                )
            yield piece

    def _budget(self, index: int) -> int:
        if self.max_size is None:
            return 2**62
        return max(0, self.max_size - self._produced[index])

    def _feed_from(self, index: int, pieces: Iterable[bytes]) -> Iterator[bytes]:
        if index == len(self._stages):
            yield from pieces
            return
        stage = self._stages[index]
        for piece in pieces:
            out = self._bounded(index, stage.feed(piece, self._budget(index)))
            yield from self._feed_from(index + 1, out)

    def iter_decompress(self, data: bytes) -> Iterator[bytes]:
        """Decode one chunk of the body, yielding the output in bounded pieces."""
        if self._finished:
            raise RuntimeError("ContentDecoder.flush() was already called")
        if data:
            yield from self._feed_from(0, (bytes(data),))

    def decompress(self, data: bytes) -> bytes:
        """Decode one chunk of the body; the output may be empty (input held back)."""
        return b"".join(self.iter_decompress(data))

    def iter_flush(self) -> Iterator[bytes]:
        """End of the body: yield what remains, raise if any stream is incomplete."""
        if self._finished:
            return
        self._finished = True
        for index, stage in enumerate(self._stages):
            out = self._bounded(index, stage.finish(self._budget(index)))
            yield from self._feed_from(index + 1, out)

    def flush(self) -> bytes:
        """End of the body: return what remains, raise if any stream is incomplete."""
        return b"".join(self.iter_flush())


class ContentEncoder:
    """Incremental encoder for a Content-Encoding value (codings applied left to right).

    ``level`` is the zlib level (0-9), brotli quality (0-11) or zstd level (1-22);
    None picks each library's default. Call :meth:`compress` per chunk, then
    :meth:`flush` once to finish every stream.
    """

    def __init__(self, encoding: str, *, level: int | None = None) -> None:
        self.encoding = encoding
        # Each stage as (encode a chunk, finish the stream): brotli spells them
        # process/finish, zlib and zstandard compress/flush.
        self._stages: list[tuple[Callable[[bytes], bytes], Callable[[], bytes]]] = []
        for name in _codings(encoding):
            if name == "br":
                br = _brotli.Compressor(quality=4 if level is None else level)
                self._stages.append((br.process, br.finish))
            elif name == "zstd":
                zlevel = 3 if level is None else level
                zs = _zstd.ZstdCompressor(level=zlevel, write_checksum=True).compressobj()
                self._stages.append((zs.compress, zs.flush))
            else:
                wbits = 16 + zlib.MAX_WBITS if name == "gzip" else zlib.MAX_WBITS
                zl = zlib.compressobj(-1 if level is None else level, zlib.DEFLATED, wbits)
                self._stages.append((zl.compress, zl.flush))
        self._finished = False

    def compress(self, data: bytes) -> bytes:
        """Encode one chunk; the output may be empty (the compressor buffers)."""
        if self._finished:
            raise RuntimeError("ContentEncoder.flush() was already called")
        for encode, _ in self._stages:
            data = encode(data)
        return bytes(data)

    def flush(self) -> bytes:
        """Finish every stream and return the remaining output."""
        if self._finished:
            return b""
        self._finished = True
        out = b""
        for encode, finish in self._stages:
            if out:
                out = encode(out)
            out += finish()
        return bytes(out)


def compress(data: bytes, encoding: str, *, level: int | None = None) -> bytes:
    """Encode a whole body with a Content-Encoding value."""
    encoder = ContentEncoder(encoding, level=level)
    return encoder.compress(data) + encoder.flush()


def decompress(
    data: bytes, encoding: str, *, max_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE
) -> bytes:
    """Decode a whole body with a Content-Encoding value, bounded by ``max_size``."""
    decoder = ContentDecoder(encoding, max_size=max_size)
    return decoder.decompress(data) + decoder.flush()
