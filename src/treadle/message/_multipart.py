"""Writing multipart bodies (RFC 2046 5.1, RFC 7578 for ``multipart/form-data``).

:class:`MultipartWriter` is itself a :class:`Payload`, so writers nest and a writer can
be sent as a request or response body. Parts may declare ``Content-Encoding`` (gzip,
deflate, br, zstd) and ``Content-Transfer-Encoding`` (base64, quoted-printable); the
writer applies them while writing, as aiohttp does. The reading side lives in
``_multipart_reader`` and is re-exported here.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from ._compression import ContentEncoder
from ._mime import format_param, is_token, validate_boundary
from ._multipart_reader import BodyPartReader, MultipartReader
from ._payload import HeadersLike, JsonPayload, Payload, StringPayload, get_payload
from ._protocols import PayloadWriter

__all__ = ["BodyPartReader", "MultipartReader", "MultipartWriter"]

_BASE64_LINE = 57  # input bytes per 76-character base64 line (RFC 2045 6.8)
_NO_TRANSFER_ENCODING = ("", "binary", "7bit", "8bit")


class _EncodingWriter:
    """Applies a part's Content-Encoding, then its Content-Transfer-Encoding."""

    def __init__(self, writer: PayloadWriter, encoding: str | None, te: str | None) -> None:
        self._writer = writer
        self._encoder = ContentEncoder(encoding) if encoding else None
        self._te = te
        self._tail = b""

    async def write(self, chunk: bytes, /) -> None:
        if self._encoder is not None:
            chunk = self._encoder.compress(chunk)
        await self._emit(chunk, final=False)

    async def finish(self) -> None:
        await self._emit(self._encoder.flush() if self._encoder else b"", final=True)

    async def _emit(self, data: bytes, *, final: bool) -> None:
        if self._te == "base64":
            data = self._tail + data
            cut = len(data) if final else len(data) - len(data) % _BASE64_LINE
            data, self._tail = data[:cut], data[cut:]
            lines = (data[i : i + _BASE64_LINE] for i in range(0, len(data), _BASE64_LINE))
            data = b"".join(base64.b64encode(line) + b"\r\n" for line in lines)
        elif self._te == "quoted-printable":
            # istext=False encodes line breaks too: lossless for any bytes and any split.
            data = binascii.b2a_qp(data, istext=False)
        if data:
            await self._writer.write(data)


class MultipartWriter(Payload):
    """A multipart body of ``subtype`` (``mixed``, ``form-data``, ``related``...).

    ``boundary`` defaults to a random 32-character hex string and is checked against RFC
    2046 5.1.1. Parts are added with :meth:`append` (anything :func:`get_payload`
    accepts, including another writer), :meth:`append_json` and :meth:`append_form`.
    """

    def __init__(
        self, subtype: str = "mixed", boundary: str | None = None, close_boundary: bool = True
    ) -> None:
        if not is_token(subtype):
            raise ValueError(f"invalid multipart subtype {subtype!r}")
        boundary = uuid.uuid4().hex if boundary is None else boundary
        self._boundary = validate_boundary(boundary)
        super().__init__(
            None, content_type=f"multipart/{subtype}; boundary={format_param(boundary)}"
        )
        self._parts: list[tuple[Payload, str | None, str | None]] = []
        self._is_form_data = subtype.lower() == "form-data"
        self._close_boundary = close_boundary

    def __enter__(self) -> MultipartWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        pass

    def __iter__(self) -> Iterator[tuple[Payload, str | None, str | None]]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __bool__(self) -> bool:
        return True

    @property
    def boundary(self) -> str:
        return self._boundary.decode("ascii")

    def append(self, obj: Any, headers: HeadersLike | None = None) -> Payload:
        """Add a part: a Payload (``headers`` are merged into it) or any payload value."""
        if isinstance(obj, Payload):
            if headers:
                obj.headers.update(headers)
            return self.append_payload(obj)
        return self.append_payload(get_payload(obj, headers=headers))

    def append_payload(self, payload: Payload) -> Payload:
        """Add a payload as the next part; its headers decide the encodings applied."""
        headers = payload.headers
        encoding = headers.get("Content-Encoding", "").strip().lower()
        te = headers.get("Content-Transfer-Encoding", "").strip().lower()
        if self._is_form_data:
            # RFC 7578 4.8: form-data parts carry no Content-Encoding or Content-Length.
            if encoding not in ("", "identity"):
                raise ValueError("multipart/form-data parts cannot have a Content-Encoding")
            headers.popall("Content-Length", None)
            if "Content-Disposition" not in headers:
                payload.set_content_disposition("form-data", name=f"section-{len(self._parts)}")
        if encoding in ("", "identity"):
            encoding = ""
        else:
            ContentEncoder(encoding)  # raises for a coding we cannot produce
        if te in _NO_TRANSFER_ENCODING:
            te = ""
        elif te not in ("base64", "quoted-printable"):
            raise ValueError(f"unknown Content-Transfer-Encoding {te!r}")
        size = payload.size
        if size is not None and not (encoding or te or self._is_form_data):
            headers["Content-Length"] = str(size)
        payload._binary_headers  # noqa: B018 - reject header injection now, not mid-write
        self._parts.append((payload, encoding or None, te or None))
        return payload

    def append_json(self, obj: Any, headers: HeadersLike | None = None) -> Payload:
        """Add a JSON part (``application/json``)."""
        return self.append_payload(JsonPayload(obj, headers=headers))

    def append_form(
        self,
        obj: Sequence[tuple[str, str]] | Mapping[str, str],
        headers: HeadersLike | None = None,
    ) -> Payload:
        """Add an ``application/x-www-form-urlencoded`` part."""
        items = list(obj.items()) if isinstance(obj, Mapping) else list(obj)
        return self.append_payload(
            StringPayload(
                urlencode(items, doseq=True),
                headers=headers,
                content_type="application/x-www-form-urlencoded",
            )
        )

    @property
    def size(self) -> int | None:
        """Exact body length, or None if a part's size is unknown or it is re-encoded."""
        total = 0
        for part, encoding, te in self._parts:
            if encoding or te or part.size is None:
                return None
            total += 2 + len(self._boundary) + 2 + len(part._binary_headers) + part.size + 2
        return total + 2 + len(self._boundary) + 4

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The whole body as text, for parts held in memory without encodings."""
        pieces = []
        for part, content_encoding, te in self._parts:
            if content_encoding or te:
                raise TypeError("parts with Content-(Transfer-)Encoding cannot be decoded")
            pieces.append(f"--{self.boundary}\r\n")
            pieces.append(part._binary_headers.decode("utf-8"))
            pieces.append(part.decode(encoding, errors) + "\r\n")
        return "".join(pieces) + f"--{self.boundary}--\r\n"

    async def write(self, writer: PayloadWriter, close_boundary: bool = True) -> None:
        """Write every part, then the close delimiter (unless ``close_boundary`` is false)."""
        for part, encoding, te in self._parts:
            await writer.write(b"--" + self._boundary + b"\r\n" + part._binary_headers)
            if encoding or te:
                encoding_writer = _EncodingWriter(writer, encoding, te)
                await part.write(encoding_writer)
                await encoding_writer.finish()
            else:
                await part.write(writer)
            await writer.write(b"\r\n")
        if close_boundary and self._close_boundary:
            await writer.write(b"--" + self._boundary + b"--\r\n")
