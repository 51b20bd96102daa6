"""``FileResponse``: a file from disk, with validators, conditional requests and ranges.

The file is opened and ``fstat``-ed in a worker thread (never blocking the event loop),
then sent with ``writer.sendfile`` (zero-copy where the connection allows it). Only
regular files are served: opening is non-blocking and checked with ``fstat`` on the
open descriptor, so a FIFO or device swapped in under the path cannot hang the server.

Validators (RFC 9110 8.8): ``ETag`` is ``"<mtime_ns hex>-<size hex>"``, ``Last-Modified``
the mtime. Preconditions are evaluated in RFC 9110 13.2.2 order: If-Match / If-
Unmodified-Since (412), then If-None-Match / If-Modified-Since (304), then If-Range
and Range (206, multipart/byteranges for several ranges, or 416).
"""

from __future__ import annotations

import mimetypes
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

from ..backends import get_backend
from ._http_exception import LooseHeaders
from ._http_helpers import ETAG_ANY, ETag, accept_encoding_items, parse_etag, parse_http_date
from ._interfaces import ResponseWriter
from ._ranges import RangeNotSatisfiable, parse_ranges
from ._stream_response import StreamResponse

if TYPE_CHECKING:
    from ._request import BaseRequest

__all__ = ["FileResponse"]

_O_FLAGS: Final = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_O_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)


@dataclass(slots=True)
class _Opened:
    file: IO[bytes] | None
    size: int
    mtime: float
    mtime_ns: int
    error: int = 0  # an HTTP status to answer with instead (403, 404)
    encoding: str | None = None  # the coding of a precompressed sibling served instead


# Precompressed siblings, most compact first: ``app.js.br``, ``app.js.gz``.
_SIBLINGS: Final = (("br", ".br"), ("gzip", ".gz"))


def _accepts(accept_encoding: str, coding: str) -> bool:
    """Whether ``Accept-Encoding`` allows ``coding`` (q > 0, named or by ``*``)."""
    star = False
    for name, quality in accept_encoding_items(accept_encoding):
        if name == coding:
            return quality > 0
        if name == "*":
            star = quality > 0
    return star


def _open_best(path: Path, codings: tuple[str, ...]) -> _Opened:
    """The first precompressed sibling the client accepts, else ``path`` itself."""
    for coding, suffix in _SIBLINGS:
        if coding in codings:
            # Never through a symlink: add_static checked ``path`` against its root,
            # not the sibling, which could otherwise lead outside it.
            opened = _open(path.with_name(path.name + suffix), _O_FLAGS | _O_NOFOLLOW)
            if opened.file is not None:
                opened.encoding = coding
                return opened
    return _open(path)


def _open(path: Path, flags: int = _O_FLAGS) -> _Opened:
    """Open ``path`` for reading if it is a regular file (runs in a worker thread)."""
    try:
        fd = os.open(path, flags)
    except (FileNotFoundError, NotADirectoryError):
        return _Opened(None, 0, 0.0, 0, 404)
    except PermissionError:
        return _Opened(None, 0, 0.0, 0, 403)
    except IsADirectoryError:
        return _Opened(None, 0, 0.0, 0, 403)
    except OSError:  # a symlink loop, a name too long...
        return _Opened(None, 0, 0.0, 0, 404)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return _Opened(None, 0, 0.0, 0, 403)
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return _Opened(file, info.st_size, info.st_mtime, info.st_mtime_ns)


def _etag_matches(current: str, tags: tuple[ETag, ...], *, weak: bool) -> bool:
    """RFC 9110 8.8.3.2: strong comparison for If-Match, weak for If-None-Match."""
    if len(tags) == 1 and tags[0].value == ETAG_ANY:
        return True
    return any(tag.value == current for tag in tags if weak or not tag.is_weak)


class FileResponse(StreamResponse):
    """Send the file at ``path``; ``chunk_size`` is the read size when not sendfile-ing."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        chunk_size: int = 256 * 1024,
        status: int = 200,
        reason: str | None = None,
        headers: LooseHeaders | None = None,
    ) -> None:
        super().__init__(status=status, reason=reason, headers=headers)
        self._path = Path(path)
        self._chunk_size = chunk_size

    async def prepare(self, request: BaseRequest) -> ResponseWriter | None:
        if self.prepared:
            return await super().prepare(request)
        codings: tuple[str, ...] = ()
        if not self._compression and "Content-Encoding" not in self._headers:
            accept = request.headers.get("Accept-Encoding", "")
            codings = tuple(coding for coding, _ in _SIBLINGS if _accepts(accept, coding))
        opened = await get_backend().run_in_thread(_open_best, self._path, codings)
        if opened.file is None:
            return await self._short(request, opened.error)
        file = opened.file
        try:
            return await self._respond(request, opened, file)
        finally:
            file.close()

    async def _respond(
        self, request: BaseRequest, opened: _Opened, file: IO[bytes]
    ) -> ResponseWriter | None:
        etag = f"{opened.mtime_ns:x}-{opened.size:x}"
        mtime = int(opened.mtime)  # HTTP dates have whole seconds
        # RFC 9110 13.2.2 steps 1-2: preconditions on the current representation.
        if_match = request.if_match
        if if_match is not None:
            if not _etag_matches(etag, if_match, weak=False):
                return await self._short(request, 412)
        else:
            since = request.if_unmodified_since
            if since is not None and mtime > since.timestamp():
                return await self._short(request, 412)
        # Steps 3-4: the client's copy is current (GET and HEAD only).
        if request.method in ("GET", "HEAD"):
            if_none_match = request.if_none_match
            if if_none_match is not None:
                not_modified = _etag_matches(etag, if_none_match, weak=True)
            else:
                since = request.if_modified_since
                not_modified = since is not None and mtime <= since.timestamp()
            if not_modified:
                if opened.encoding is not None:
                    self._headers.add("Vary", "Accept-Encoding")
                self.set_status(304)
                self.etag = etag
                self.last_modified = mtime
                writer = await super().prepare(request)
                await self.write_eof()
                return writer

        headers = self._headers
        content_type = None
        if "Content-Type" not in headers:
            content_type = mimetypes.guess_type(self._path.name)[0] or "application/octet-stream"
            headers["Content-Type"] = content_type
        self.etag = etag
        self.last_modified = mtime
        headers["Accept-Ranges"] = "bytes"
        if opened.encoding is not None:
            headers["Content-Encoding"] = opened.encoding
            headers.add("Vary", "Accept-Encoding")

        size = opened.size
        ranges = None
        range_header = request.headers.get("Range")
        # A compressed body has other offsets than the file: Range is then ignored.
        if (
            range_header is not None
            and request.method in ("GET", "HEAD")
            and not self._compression
            and self._if_range_holds(request, etag, mtime)
        ):
            try:
                ranges = parse_ranges(range_header, size)
            except RangeNotSatisfiable:
                headers["Content-Range"] = f"bytes */{size}"
                return await self._short(request, 416)
        if ranges is None:
            self._set_length(size)
            return await self._send(request, file, [(0, size)], None)
        self.set_status(206)
        if len(ranges) == 1:
            start, end = ranges[0]
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
            self._set_length(end - start)
            return await self._send(request, file, ranges, None)
        return await self._send_multipart(request, file, ranges, size, content_type)

    def _if_range_holds(self, request: BaseRequest, etag: str, mtime: int) -> bool:
        """RFC 9110 13.1.5: Range applies only if If-Range names the current version."""
        value = request.headers.get("If-Range")
        if value is None:
            return True
        value = value.strip()
        if value.startswith(('"', "W/")):
            tag = parse_etag(value)
            return tag is not None and not tag.is_weak and tag.value == etag
        when = parse_http_date(value)
        return when is not None and mtime <= when.timestamp()

    def _set_length(self, length: int) -> None:
        self._headers.popall("Transfer-Encoding", None)
        self._chunked = False
        self._headers["Content-Length"] = str(length)

    async def _short(self, request: BaseRequest, status: int) -> ResponseWriter | None:
        self.set_status(status)
        self._set_length(0)
        writer = await super().prepare(request)
        await self.write_eof()
        return writer

    async def _send(
        self,
        request: BaseRequest,
        file: IO[bytes],
        ranges: list[tuple[int, int]],
        parts: list[bytes] | None,
    ) -> ResponseWriter | None:
        if self._compression:
            self._headers.popall("Content-Length", None)  # compressed size is unknown
        writer = await super().prepare(request)
        if writer is None:
            return None
        if not self._must_be_empty_body:
            for index, (start, end) in enumerate(ranges):
                if parts is not None:
                    await writer.write(parts[index])
                await self._send_range(writer, file, start, end - start)
            if parts is not None:
                await writer.write(parts[-1])
        await self.write_eof()
        return writer

    async def _send_range(
        self, writer: ResponseWriter, file: IO[bytes], offset: int, count: int
    ) -> None:
        if count <= 0:
            return
        if self._encoder is None:
            await writer.sendfile(file, offset, count)
            return
        # Compression needs the bytes: read in a worker thread, write through write().
        backend = get_backend()
        await backend.run_in_thread(file.seek, offset)
        while count > 0:
            data = await backend.run_in_thread(file.read, min(self._chunk_size, count))
            if not data:
                raise RuntimeError(f"{self._path} shrank while it was being sent")
            await self.write(data)
            count -= len(data)

    async def _send_multipart(
        self,
        request: BaseRequest,
        file: IO[bytes],
        ranges: list[tuple[int, int]],
        size: int,
        content_type: str | None,
    ) -> ResponseWriter | None:
        """RFC 9110 14.6: one ``multipart/byteranges`` part per range."""
        boundary = secrets.token_hex(16)
        part_type = content_type or self._headers.get("Content-Type", "application/octet-stream")
        self._headers["Content-Type"] = f"multipart/byteranges; boundary={boundary}"
        parts = [
            (b"\r\n" if index else b"")
            + (
                f"--{boundary}\r\nContent-Type: {part_type}\r\n"
                f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n"
            ).encode("latin-1")
            for index, (start, end) in enumerate(ranges)
        ]
        parts.append(f"\r\n--{boundary}--\r\n".encode("latin-1"))
        self._set_length(sum(map(len, parts)) + sum(end - start for start, end in ranges))
        return await self._send(request, file, ranges, parts)


async def static_responder(request: Any, target: Any) -> StreamResponse:
    """What ``add_static`` answers with: the file, or an index of the directory."""
    if target.is_dir:
        from ._static_index import directory_index

        return await directory_index(request, target.path)
    resource = getattr(getattr(request.match_info, "route", None), "resource", None)
    chunk_size = getattr(resource, "chunk_size", 256 * 1024)
    return FileResponse(target.path, chunk_size=chunk_size)
