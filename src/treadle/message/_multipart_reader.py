"""Reading multipart bodies as a stream (RFC 2046 5.1, RFC 7578 for form-data).

:class:`MultipartReader` yields one part at a time; a part's body is found by scanning
for its delimiter (CRLF, ``--``, boundary), never by trusting a part's Content-Length
(RFC 7578 4.8), and is read in bounded chunks, so a large upload never needs to fit in
memory. A nested ``multipart/*`` part is read by a nested reader whose stream is that
part's body, so a broken inner body can never swallow the outer delimiter.

Everything the peer controls is bounded: total size, line length, header size and count
per part, number of parts, nesting depth, decompressed size. Exceeding a limit raises
:class:`MultipartLimitError`; malformed framing or a body that ends early raises
:class:`MultipartError`. Both are ``ValueError``, as in aiohttp.
"""

from __future__ import annotations

import binascii
import codecs
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy

from ._compression import DEFAULT_MAX_DECOMPRESSED_SIZE, decompress
from ._errors import MultipartError, MultipartLimitError
from ._mime import content_disposition_filename, is_token, parse_content_disposition, parse_mimetype
from ._protocols import BodyStream

__all__ = ["BodyPartReader", "MultipartReader"]

_READ_SIZE = 2**16


@dataclass
class _Context:
    """Limits shared by a reader, its parts and nested readers, plus the part count."""

    max_size: int | None = None
    max_parts: int = 1000
    max_headers: int = 128
    max_field_size: int = 8190
    max_line_size: int = 8190
    max_depth: int = 8
    max_decompressed_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE
    depth: int = 0
    parts: list[int] = field(default_factory=lambda: [0])


class _Source:
    """A buffer over a :class:`BodyStream`, its only reader; counts the bytes received."""

    def __init__(self, stream: BodyStream, max_size: int | None) -> None:
        self._stream = stream
        self._max_size = max_size
        self.buf = bytearray()
        self.received = 0
        self.eof = False

    async def fill(self) -> bool:
        """Append the next piece of the stream; False at its end."""
        if self.eof:
            return False
        data = await self._stream.readany()
        if not data:
            self.eof = True
            return False
        self.received += len(data)
        if self._max_size is not None and self.received > self._max_size:
            raise MultipartLimitError(f"multipart body exceeds max_size={self._max_size} bytes")
        self.buf += data
        return True

    async def readline(self, limit: int, error: str) -> bytes:
        """One line with its LF, or what is left at the end of the stream.

        A line longer than ``limit`` raises MultipartLimitError with ``error``.
        """
        start = 0
        while True:
            idx = self.buf.find(b"\n", start)
            if idx >= 0 or len(self.buf) > limit:
                if idx < 0 or idx >= limit:
                    raise MultipartLimitError(error)
                line = bytes(self.buf[: idx + 1])
                del self.buf[: idx + 1]
                return line
            start = len(self.buf)
            if not await self.fill():
                line = bytes(self.buf)
                self.buf.clear()
                return line

    async def peek(self, n: int) -> bytes:
        while len(self.buf) < n and await self.fill():
            pass
        return bytes(self.buf[:n])


class BodyPartReader:
    """One part: its ``headers`` and a body read in chunks up to the next delimiter.

    ``boundary`` is the dash-boundary (``b"--" + boundary``), as in aiohttp. Read with
    :meth:`read_chunk` (raw, streaming), :meth:`read` (whole body, ``decode=True``
    undoes Content-Transfer-Encoding and, outside form-data, Content-Encoding),
    :meth:`readline`, :meth:`text`, :meth:`json` or :meth:`form`.
    """

    chunk_size = 8192

    def __init__(
        self,
        boundary: bytes,
        headers: Mapping[str, str],
        content: BodyStream | _Source,
        *,
        subtype: str = "mixed",
        default_charset: str | None = None,
        _context: _Context | None = None,
    ) -> None:
        self.headers = headers
        self._context = _context or _Context()
        self._source = content if isinstance(content, _Source) else _Source(content, None)
        self._delimiter = b"\r\n" + boundary
        self._is_form_data = subtype == "form-data"
        self._default_charset = default_charset
        self._pending = b""
        self._scan_from = 0
        self._at_eof = False

    def __aiter__(self) -> AsyncIterator[bytearray]:
        return self

    async def __anext__(self) -> bytearray:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    async def next(self) -> bytearray | None:
        """The whole remaining body, or None when it was already read (aiohttp)."""
        item = await self.read()
        return item or None

    def at_eof(self) -> bool:
        return self._at_eof and not self._pending

    async def _next(self, size: int) -> bytes:
        """Up to ``size`` raw body bytes; b"" once the delimiter is reached."""
        if self._pending:
            chunk, self._pending = self._pending[:size], self._pending[size:]
            return chunk
        if self._at_eof:
            return b""
        source, delim = self._source, self._delimiter
        keep = len(delim) - 1
        while True:
            buf = source.buf
            idx = buf.find(delim, self._scan_from)
            if idx == 0:
                del buf[: len(delim)]
                self._at_eof = True
                self._scan_from = 0
                return b""
            if idx > 0 or len(buf) > keep:
                n = min(size, idx if idx > 0 else len(buf) - keep)
                chunk = bytes(memoryview(buf)[:n])  # one copy; the view is gone before del
                del buf[:n]
                # Resume where the delimiter was found (or may still start), so a body
                # read in small chunks is scanned once, not once per chunk.
                self._scan_from = idx - n if idx > 0 else max(0, len(buf) - keep)
                return chunk
            if not await source.fill():
                raise MultipartError(
                    "multipart body ended inside a part (its closing boundary is missing)"
                )

    async def read_chunk(self, size: int = chunk_size) -> bytes:
        """Up to ``size`` raw bytes of the body; b"" at its end."""
        if size <= 0:
            raise ValueError("size must be positive")
        return await self._next(size)

    async def readline(self) -> bytes:
        """One line of the body with its LF (the last one may lack it); b"" at the end."""
        line = b""
        while True:
            chunk = await self._next(self.chunk_size)
            idx = chunk.find(b"\n")
            if idx >= 0:
                self._pending = chunk[idx + 1 :] + self._pending
                chunk = chunk[: idx + 1]
            line += chunk
            if len(line) > self._context.max_line_size:
                limit = self._context.max_line_size
                raise MultipartLimitError(f"line in a part body exceeds max_line_size={limit}")
            if idx >= 0 or not chunk:
                return line

    async def read(self, *, decode: bool = False) -> bytearray:
        """The rest of the body; with ``decode``, transfer and content codings undone."""
        data = bytearray()
        while chunk := await self._next(_READ_SIZE):
            data += chunk
        if decode:
            return bytearray(self.decode(bytes(data)))
        return data

    async def release(self) -> None:
        """Skip the rest of the body."""
        while await self._next(_READ_SIZE):
            pass

    def decode(self, data: bytes) -> bytes:
        """Undo Content-Transfer-Encoding, then Content-Encoding (not for form-data)."""
        te = self.headers.get("Content-Transfer-Encoding", "").strip().lower()
        if te == "base64":
            try:
                data = binascii.a2b_base64(data)
            except binascii.Error as exc:
                raise MultipartError(f"invalid base64 part body: {exc}") from exc
        elif te == "quoted-printable":
            data = binascii.a2b_qp(data)
        elif te not in ("", "binary", "7bit", "8bit"):
            raise MultipartError(f"unknown Content-Transfer-Encoding {te!r}")
        encoding = self.headers.get("Content-Encoding", "").strip()
        # RFC 7578 4.8: form-data parts ignore Content-Encoding (aiohttp >= 3.9 too).
        if encoding and not self._is_form_data:
            data = decompress(data, encoding, max_size=self._context.max_decompressed_size)
        return data

    def get_charset(self, default: str) -> str:
        """The charset of the part's Content-Type, else the form's ``_charset_``/default."""
        params = parse_mimetype(self.headers.get("Content-Type", "")).parameters
        return params.get("charset", self._default_charset or default)

    def _codec(self, encoding: str | None) -> str:
        name = encoding or self.get_charset("utf-8")
        try:
            return codecs.lookup(name).name
        except LookupError:
            raise MultipartError(f"unknown charset {name!r} in a multipart part") from None

    async def text(self, *, encoding: str | None = None) -> str:
        """The decoded body as text (charset from Content-Type, else UTF-8)."""
        data = await self.read(decode=True)
        return data.decode(self._codec(encoding))

    async def json(self, *, encoding: str | None = None) -> Any:
        """The decoded body parsed as JSON; None for an empty body (aiohttp)."""
        data = await self.read(decode=True)
        if not data:
            return None
        return json.loads(data.decode(self._codec(encoding)))

    async def form(self, *, encoding: str | None = None) -> list[tuple[str, str]]:
        """The decoded body parsed as ``application/x-www-form-urlencoded``."""
        data = await self.read(decode=True)
        if not data:
            return []
        codec = self._codec(encoding)
        try:
            text = data.rstrip().decode(codec)
            limit = self._context.max_parts
            return parse_qsl(text, keep_blank_values=True, encoding=codec, max_num_fields=limit)
        except UnicodeDecodeError as exc:
            raise MultipartError(f"form data cannot be decoded with {codec}") from exc
        except ValueError as exc:
            raise MultipartLimitError(f"form part has more than {limit} fields") from exc

    @cached_property
    def _disposition(self) -> dict[str, str]:
        return parse_content_disposition(self.headers.get("Content-Disposition"))[1]

    @property
    def name(self) -> str | None:
        """The ``name`` parameter of Content-Disposition (the form field name)."""
        return content_disposition_filename(self._disposition, "name")

    @property
    def filename(self) -> str | None:
        """The ``filename`` of Content-Disposition (``filename*`` preferred, RFC 6266)."""
        return content_disposition_filename(self._disposition, "filename")


class _PartStream:
    """A part's body as a :class:`BodyStream`, the stream of a nested reader."""

    def __init__(self, part: BodyPartReader) -> None:
        self._part = part

    async def readany(self) -> bytes:
        return await self._part._next(_READ_SIZE)

    async def read(self, n: int = -1) -> bytes:
        return bytes(await self._part.read()) if n < 0 else await self._part._next(n)

    async def readline(self) -> bytes:
        return await self._part.readline()

    def at_eof(self) -> bool:
        return self._part.at_eof()


class MultipartReader:
    """Reads a ``multipart/*`` body part by part: ``async for part in reader``.

    ``headers`` must hold the Content-Type with its boundary; ``content`` is the body.
    Items are :class:`BodyPartReader` or, for nested ``multipart/*`` parts, readers of
    this class. Moving to the next part skips what was left of the previous one.
    Limits: ``max_size`` (whole body, None = unbounded), ``max_parts`` (in total,
    nested included), ``max_headers`` and ``max_field_size`` (per part),
    ``max_line_size`` (boundary and preamble lines, ``readline()``), ``max_depth``
    (nesting) and ``max_decompressed_size`` (per part, for ``read(decode=True)``).
    """

    multipart_reader_cls: type[MultipartReader] | None = None
    part_reader_cls: type[BodyPartReader] = BodyPartReader

    def __init__(
        self,
        headers: Mapping[str, str],
        content: BodyStream,
        *,
        max_size: int | None = None,
        max_parts: int = 1000,
        max_headers: int = 128,
        max_field_size: int = 8190,
        max_line_size: int = 8190,
        max_depth: int = 8,
        max_decompressed_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE,
        _context: _Context | None = None,
    ) -> None:
        self.headers = headers
        self._context = _context or _Context(
            max_size,
            max_parts,
            max_headers,
            max_field_size,
            max_line_size,
            max_depth,
            max_decompressed_size,
        )
        ctype = headers.get("Content-Type", "")
        self._mimetype = parse_mimetype(ctype)
        if self._mimetype.type != "multipart":
            raise MultipartError(f"multipart/* content type expected, got {ctype!r}")
        boundary = self._mimetype.parameters.get("boundary", "")
        if not 0 < len(boundary) <= 70 or not all(" " <= c <= "~" for c in boundary):
            raise MultipartError(f"missing or invalid boundary in Content-Type {ctype!r}")
        self._boundary = b"--" + boundary.encode("ascii")
        self._source = _Source(content, self._context.max_size if _context is None else None)
        self._default_charset: str | None = None
        self._last_raw: BodyPartReader | None = None
        self._at_bof = True
        self._at_eof = False

    def __aiter__(self) -> AsyncIterator[MultipartReader | BodyPartReader]:
        return self

    async def __anext__(self) -> MultipartReader | BodyPartReader:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    def at_eof(self) -> bool:
        """True once the close delimiter was read."""
        return self._at_eof

    async def next(self) -> MultipartReader | BodyPartReader | None:
        """The next part, or None after the last one."""
        if self._at_eof:
            return None
        if self._last_raw is not None:
            await self._last_raw.release()
        is_first = self._at_bof
        if is_first:
            await self._read_until_first_boundary()
            self._at_bof = False
        else:
            await self._read_boundary()
        if self._at_eof:
            return None
        part = await self.fetch_next_part()
        # RFC 7578 4.6: a leading "_charset_" field names the default charset.
        if (
            is_first
            and self._mimetype.subtype == "form-data"
            and isinstance(part, BodyPartReader)
            and part.name == "_charset_"
        ):
            value = b""
            while chunk := await part.read_chunk(64):
                value += chunk
                if len(value) > 64:
                    raise MultipartError("_charset_ field is longer than 64 bytes")
            charset = value.strip().decode("ascii", "replace")
            try:
                codecs.lookup(charset)
            except LookupError:
                raise MultipartError(f"unknown _charset_ {charset!r}") from None
            self._default_charset = charset
            return await self.next()
        return part

    async def release(self) -> None:
        """Skip every remaining part."""
        while await self.next() is not None:
            pass

    async def fetch_next_part(self) -> MultipartReader | BodyPartReader:
        """Read the next part's headers and return its reader."""
        ctx = self._context
        ctx.parts[0] += 1
        if ctx.parts[0] > ctx.max_parts:
            raise MultipartLimitError(f"multipart body has more than max_parts={ctx.max_parts}")
        headers = await self._read_headers()
        raw = self.part_reader_cls(
            self._boundary,
            headers,
            self._source,
            subtype=self._mimetype.subtype,
            default_charset=self._default_charset,
            _context=ctx,
        )
        self._last_raw = raw
        if parse_mimetype(headers.get("Content-Type", "")).type != "multipart":
            return raw
        if ctx.depth + 1 > ctx.max_depth:
            raise MultipartLimitError(f"multipart nesting deeper than max_depth={ctx.max_depth}")
        cls = self.multipart_reader_cls or type(self)
        return cls(headers, _PartStream(raw), _context=replace(ctx, depth=ctx.depth + 1))

    async def _read_until_first_boundary(self) -> None:
        """Skip the preamble (RFC 2046 5.1.1) up to the first dash-boundary line."""
        limit = self._context.max_line_size
        setting = f"max_line_size={limit}"
        while True:
            line = await self._source.readline(limit, f"preamble line exceeds {setting}")
            if not line:
                raise MultipartError(
                    f"multipart body ended before its first boundary {self._boundary!r}"
                )
            if line.startswith(self._boundary):
                rest = line[len(self._boundary) :]
                if rest.startswith(b"--"):
                    self._at_eof = True
                    return
                if line.endswith(b"\n") and not rest.strip(b" \t\r\n"):
                    return

    async def _read_boundary(self) -> None:
        """After a part's delimiter: ``--`` ends the body, else padding and a line break."""
        if await self._source.peek(2) == b"--":
            del self._source.buf[:2]
            self._at_eof = True
            return
        limit = self._context.max_line_size
        line = await self._source.readline(limit, f"boundary line exceeds max_line_size={limit}")
        if not line.endswith(b"\n"):
            raise MultipartError("multipart body ended right after a boundary")
        if line.strip(b" \t\r\n"):
            raise MultipartError(f"invalid boundary line {self._boundary + line[:80]!r}")

    async def _read_headers(self) -> CIMultiDictProxy[str]:
        ctx = self._context
        lines: list[bytes] = []
        too_long = f"part header exceeds max_field_size={ctx.max_field_size}"
        while True:
            line = await self._source.readline(ctx.max_field_size + 2, too_long)
            if not line.endswith(b"\n"):
                raise MultipartError("multipart body ended inside a part's headers")
            line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
            if not line:
                break
            if line[:1] in (b" ", b"\t") and lines:  # obsolete line folding (RFC 5322)
                lines[-1] += b" " + line.strip(b" \t")
            else:
                lines.append(line)
            if len(lines[-1]) > ctx.max_field_size:
                raise MultipartLimitError(too_long)
            if len(lines) > ctx.max_headers:
                raise MultipartLimitError(f"part has more than max_headers={ctx.max_headers}")
        headers: CIMultiDict[str] = CIMultiDict()
        for raw in lines:
            name, sep, value = raw.partition(b":")
            text = name.decode("latin-1")
            if not sep or not is_token(text) or b"\r" in value or b"\0" in value:
                raise MultipartError(f"invalid part header line {raw[:80]!r}")
            headers.add(text, value.strip(b" \t").decode("utf-8", "surrogateescape"))
        return CIMultiDictProxy(headers)
