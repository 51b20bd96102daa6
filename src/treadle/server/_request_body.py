"""``request.post()``: a urlencoded or multipart/form-data body as form fields.

The whole form is bounded by ``client_max_size`` (file contents included): a peer
cannot make the server buffer or spool more than that, whatever the number or size of
the fields (413 past it). File fields are spooled to anonymous temporary files, written
in a worker thread so a big upload does not block the event loop. A malformed body is a
400, not a crash.
"""

from __future__ import annotations

import codecs
import tempfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

from ..backends import get_backend
from ..message import BodyPartReader, MultipartError, MultipartLimitError
from ._exceptions import HTTPBadRequest, HTTPRequestEntityTooLarge

if TYPE_CHECKING:
    from ._request import BaseRequest

__all__ = ["FileField", "read_post"]

_FORM_TYPES = frozenset({"", "application/x-www-form-urlencoded", "multipart/form-data"})
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class FileField:
    """An uploaded file of a multipart form: ``file`` is positioned at its start."""

    name: str
    filename: str
    file: IO[bytes]
    content_type: str
    headers: CIMultiDictProxy[str]


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise HTTPBadRequest(text="Unknown charset in the form") from None  # no echo


async def read_post(request: BaseRequest) -> MultiDictProxy[str | bytes | FileField]:
    content_type = request.content_type
    if content_type not in _FORM_TYPES:
        return MultiDictProxy(MultiDict())
    out: MultiDict[str | bytes | FileField] = MultiDict()
    if content_type == "multipart/form-data":
        try:
            await _read_multipart(request, out)
        except HTTPRequestEntityTooLarge:
            request.protocol.force_close()  # the 413 ends the connection (body not read)
            raise
        except MultipartLimitError as exc:
            request.protocol.force_close()
            raise HTTPRequestEntityTooLarge(
                max_size=request.client_max_size, actual_size=-1, text=str(exc)
            ) from exc
        except MultipartError as exc:
            raise HTTPBadRequest(text="Malformed multipart form") from exc  # detail: __cause__
        return MultiDictProxy(out)
    data = await request.read()
    if data:
        charset = _codec(request.charset or "utf-8")
        try:
            text = data.rstrip().decode(charset)
        except UnicodeDecodeError:
            raise HTTPBadRequest(text=f"The form is not valid {charset}") from None
        try:
            out.extend(parse_qsl(text, keep_blank_values=True, encoding=charset))
        except (UnicodeDecodeError, ValueError):
            raise HTTPBadRequest(text=f"The form is not valid {charset}") from None
    return MultiDictProxy(out)


class _Budget:
    """Bytes of field data left under ``client_max_size`` (0 = unlimited)."""

    __slots__ = ("max_size", "size")

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.size = 0

    def take(self, n: int) -> None:
        self.size += n
        if self.max_size and self.size > self.max_size:
            raise HTTPRequestEntityTooLarge(max_size=self.max_size, actual_size=self.size)


async def _read_multipart(request: BaseRequest, out: MultiDict[str | bytes | FileField]) -> None:
    reader = await request.multipart()
    budget = _Budget(request.client_max_size)
    backend = get_backend()
    while True:
        part = await reader.next()
        if part is None:
            return
        if not isinstance(part, BodyPartReader):
            raise HTTPBadRequest(text="Nested multipart parts are not supported in a form")
        name = part.name
        if name is None:
            await part.release()
            continue
        part_type = part.headers.get("Content-Type")
        filename = part.filename
        if filename is not None:
            out.add(name, await _spool(part, name, filename, part_type, budget, backend))
            continue
        pieces: list[bytes] = []
        while chunk := await part.read_chunk(_CHUNK):
            budget.take(len(chunk))
            pieces.append(chunk)
        value = part.decode(b"".join(pieces))
        if part_type is None or part_type.startswith("text/"):
            charset = _codec(part.get_charset("utf-8"))
            try:
                out.add(name, value.decode(charset))
            except UnicodeDecodeError:
                raise HTTPBadRequest(text=f"A form field is not valid {charset}") from None
        else:
            out.add(name, value)


async def _spool(
    part: BodyPartReader,
    name: str,
    filename: str,
    part_type: str | None,
    budget: _Budget,
    backend: Any,
) -> FileField:
    """Write an uploaded file to a temporary file, off the event loop."""
    file: IO[bytes] = await backend.run_in_thread(tempfile.TemporaryFile)
    try:
        while chunk := await part.read_chunk(_CHUNK):
            budget.take(len(chunk))
            data = part.decode(chunk)
            await backend.run_in_thread(file.write, data)
        await backend.run_in_thread(file.seek, 0)
    except BaseException:
        file.close()
        raise
    headers = CIMultiDictProxy(CIMultiDict(part.headers))
    return FileField(name, filename, file, part_type or "application/octet-stream", headers)
