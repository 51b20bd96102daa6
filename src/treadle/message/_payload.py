"""Outgoing bodies as aiohttp models them: ``Payload`` objects chosen by type.

A payload knows its headers (Content-Type, maybe Content-Disposition), its size when it
can tell (so the sender picks Content-Length over chunked framing) and how to write
itself into a :class:`PayloadWriter`. :func:`get_payload` picks the class for a value
through ``PAYLOAD_REGISTRY``, in the same order aiohttp does.

File objects are read with blocking calls. Pass ``run_in_thread`` (an async callable
that runs a zero-argument function in a worker thread and returns its result, such as
``anyio.to_thread.run_sync`` or ``trio.to_thread.run_sync``) to keep those reads off the
event loop; without it the reads happen inline, which suits in-memory files. The client
and server set it for the backend they run on.
"""

from __future__ import annotations

import enum
import functools
import io
import json
import mimetypes
import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from pathlib import PurePath
from typing import IO, Any, Protocol, TypeVar

from multidict import CIMultiDict

from ._mime import content_disposition_header, parse_mimetype
from ._protocols import BodyStream, PayloadWriter

__all__ = [
    "PAYLOAD_REGISTRY",
    "AsyncIterablePayload",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "BytesPayload",
    "IOBasePayload",
    "JsonPayload",
    "Order",
    "Payload",
    "PayloadLookupError",
    "PayloadRegistry",
    "RunInThread",
    "StreamReaderPayload",
    "StringIOPayload",
    "StringPayload",
    "TextIOPayload",
    "get_payload",
    "guess_filename",
    "payload_type",
    "register_payload",
]

_T = TypeVar("_T")
HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]]
READ_SIZE = 2**16


class RunInThread(Protocol):
    """Runs a blocking zero-argument callable in a worker thread and awaits its result."""

    def __call__(self, func: Callable[[], _T], /) -> Awaitable[_T]: ...


class PayloadLookupError(LookupError):
    """No payload class accepts this value (``aiohttp.payload.LookupError``)."""


# aiohttp spells it ``payload.LookupError``; keep that name importable from this module.
LookupError = PayloadLookupError


class Order(enum.StrEnum):
    """Where a registered factory is tried: before, among or after the built-in ones."""

    normal = "normal"
    try_first = "try_first"
    try_last = "try_last"


def guess_filename(obj: Any, default: str | None = None) -> str | None:
    """The base name of a file object's ``name``, unless it is a pseudo name like <stdin>."""
    name = getattr(obj, "name", None)
    if isinstance(name, str) and name and not (name[0] == "<" and name[-1] == ">"):
        return PurePath(name).name
    return default


class Payload(ABC):
    """A body to send: value, headers (a ``CIMultiDict``), size when known, ``write()``."""

    _default_content_type = "application/octet-stream"
    _size: int | None = None

    def __init__(
        self,
        value: Any,
        headers: HeadersLike | None = None,
        content_type: str | None = None,
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._value = value
        self._encoding = encoding
        self._filename = filename
        self._headers: CIMultiDict[str] = CIMultiDict()
        if content_type is not None:
            self._headers["Content-Type"] = content_type
        elif filename is not None:
            guessed = mimetypes.guess_type(filename)[0]
            self._headers["Content-Type"] = guessed or self._default_content_type
        else:
            self._headers["Content-Type"] = self._default_content_type
        if headers:
            self._headers.update(headers)

    @property
    def size(self) -> int | None:
        """Length in bytes of what :meth:`write` sends, or None when unknown."""
        return self._size

    @property
    def filename(self) -> str | None:
        return self._filename

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._headers

    @property
    def _binary_headers(self) -> bytes:
        """Headers of a multipart part, ending with the blank line (RFC 2046 5.1.1)."""
        lines = []
        for name, value in self._headers.items():
            if any(c in name or c in value for c in "\r\n\0"):
                raise ValueError(f"line break or NUL in header {name!r}: {value!r}")
            lines.append(f"{name}: {value}\r\n")
        return ("".join(lines) + "\r\n").encode("utf-8")

    @property
    def encoding(self) -> str | None:
        return self._encoding

    @property
    def content_type(self) -> str:
        return self._headers["Content-Type"]

    @property
    def value(self) -> Any:
        return self._value

    def set_content_disposition(
        self, disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: str
    ) -> None:
        """Set Content-Disposition (RFC 6266; for form fields RFC 7578 4.2)."""
        self._headers["Content-Disposition"] = content_disposition_header(
            disptype, quote_fields=quote_fields, _charset=_charset, params=params
        )

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The body as text, for payloads that hold it in memory."""
        raise TypeError(f"{type(self).__name__} cannot be decoded without being written")

    @abstractmethod
    async def write(self, writer: PayloadWriter) -> None:
        """Send the body through ``writer``."""


class BytesPayload(Payload):
    """bytes, bytearray or memoryview, sent as they are."""

    def __init__(self, value: bytes | bytearray | memoryview, *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"value argument must be byte-ish, not {type(value)!r}")
        if isinstance(value, memoryview):
            value = value.cast("B") if value.c_contiguous else bytes(value)
        super().__init__(value, *args, **kwargs)
        self._size = len(value)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return bytes(self._value).decode(encoding, errors)

    async def write(self, writer: PayloadWriter) -> None:
        await writer.write(bytes(self._value))


def _text_encoding(encoding: str | None, content_type: str | None) -> tuple[str, str]:
    """Charset and Content-Type of a text body, as aiohttp's StringPayload settles them."""
    if encoding is None and content_type is not None:
        encoding = parse_mimetype(content_type).parameters.get("charset", "utf-8")
    encoding = encoding or "utf-8"
    return encoding, content_type or f"text/plain; charset={encoding}"


class StringPayload(BytesPayload):
    """A str, encoded with ``encoding`` or the charset of ``content_type`` (UTF-8)."""

    def __init__(
        self,
        value: str,
        *args: Any,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        real_encoding, real_type = _text_encoding(encoding, content_type)
        super().__init__(
            value.encode(real_encoding),
            *args,
            encoding=real_encoding,
            content_type=real_type,
            **kwargs,
        )


class StringIOPayload(StringPayload):
    """An ``io.StringIO``: its remaining text, read at once (it is in memory anyway)."""

    def __init__(self, value: IO[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(value.read(), *args, **kwargs)


class JsonPayload(BytesPayload):
    """A value serialised with ``dumps`` (``json.dumps``) as ``application/json``."""

    def __init__(
        self,
        value: Any,
        encoding: str = "utf-8",
        content_type: str = "application/json",
        dumps: Callable[[Any], str] = json.dumps,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            dumps(value).encode(encoding),
            content_type=content_type,
            encoding=encoding,
            *args,  # noqa: B026 - aiohttp's signature
            **kwargs,
        )


class IOBasePayload(Payload):
    """A binary file object, read in chunks of 64 KiB and closed after writing.

    The file name (``value.name``) becomes the filename and guesses the Content-Type;
    ``disposition`` (``"attachment"``) sets Content-Disposition unless one was given.
    """

    def __init__(
        self,
        value: IO[Any],
        disposition: str | None = "attachment",
        *args: Any,
        run_in_thread: RunInThread | None = None,
        **kwargs: Any,
    ) -> None:
        if "filename" not in kwargs:
            kwargs["filename"] = guess_filename(value)
        super().__init__(value, *args, **kwargs)
        self.run_in_thread = run_in_thread
        has_disposition = "Content-Disposition" in self._headers
        if self._filename is not None and disposition is not None and not has_disposition:
            self.set_content_disposition(disposition, filename=self._filename)

    async def _call(self, func: Callable[[], _T]) -> _T:
        if self.run_in_thread is None:
            return func()
        return await self.run_in_thread(func)

    @property
    def size(self) -> int | None:
        try:
            return os.fstat(self._value.fileno()).st_size - int(self._value.tell())
        except (OSError, AttributeError, ValueError):
            return None

    def _encode(self, chunk: Any) -> bytes:
        return bytes(chunk)

    async def write(self, writer: PayloadWriter) -> None:
        read = functools.partial(self._value.read, READ_SIZE)
        try:
            while chunk := await self._call(read):
                await writer.write(self._encode(chunk))
        finally:
            await self._call(self._value.close)


class BufferedReaderPayload(IOBasePayload):
    """``open(path, "rb")`` and friends: size from ``fstat`` minus the current position."""


class BytesIOPayload(IOBasePayload):
    """An ``io.BytesIO``: read inline, it is already in memory."""

    @property
    def size(self) -> int | None:
        value: io.BytesIO = self._value
        return len(value.getbuffer()) - value.tell()

    async def _call(self, func: Callable[[], _T]) -> _T:
        return func()


class TextIOPayload(IOBasePayload):
    """A text file object, encoded chunk by chunk; its byte size is unknown (None)."""

    def __init__(
        self,
        value: IO[str],
        *args: Any,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        real_encoding, real_type = _text_encoding(encoding, content_type)
        super().__init__(value, *args, content_type=real_type, encoding=real_encoding, **kwargs)

    @property
    def size(self) -> int | None:
        return None

    def _encode(self, chunk: Any) -> bytes:
        return str(chunk).encode(self._encoding or "utf-8")


class AsyncIterablePayload(Payload):
    """An async iterable of bytes (an async generator...), streamed once; size unknown."""

    def __init__(self, value: AsyncIterable[bytes], *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, AsyncIterable):
            raise TypeError(f"value argument must support __aiter__, got {type(value)!r}")
        super().__init__(value, *args, **kwargs)
        self._iter: AsyncIterator[bytes] | None = value.__aiter__()

    async def write(self, writer: PayloadWriter) -> None:
        if self._iter is None:
            raise RuntimeError("an async iterable payload can be written only once")
        chunks, self._iter = self._iter, None
        async for chunk in chunks:
            await writer.write(bytes(chunk))


class StreamReaderPayload(Payload):
    """A :class:`BodyStream` (a received body) forwarded as it arrives; size unknown."""

    _value: BodyStream

    async def write(self, writer: PayloadWriter) -> None:
        while chunk := await self._value.readany():
            await writer.write(chunk)


PayloadFactory = Callable[..., Payload]
_F = TypeVar("_F", bound=PayloadFactory)


class PayloadRegistry:
    """Maps value types to payload factories; the first match, by order, wins."""

    def __init__(self) -> None:
        self._first: list[tuple[PayloadFactory, Any]] = []
        self._normal: list[tuple[PayloadFactory, Any]] = []
        self._last: list[tuple[PayloadFactory, Any]] = []

    def get(self, data: Any, *args: Any, **kwargs: Any) -> Payload:
        """A payload for ``data``; a Payload is returned as it is."""
        if isinstance(data, Payload):
            return data
        for factory, type_ in (*self._first, *self._normal, *self._last):
            if isinstance(data, type_):
                return factory(data, *args, **kwargs)
        raise PayloadLookupError(f"no payload type accepts {type(data).__name__!r}")

    def register(self, factory: PayloadFactory, type: Any, *, order: Order = Order.normal) -> None:
        """Use ``factory`` for instances of ``type`` (a class, a tuple, a Protocol)."""
        entries = {Order.try_first: self._first, Order.normal: self._normal}
        entries.get(order, self._last).append((factory, type))


PAYLOAD_REGISTRY = PayloadRegistry()


def get_payload(data: Any, *args: Any, **kwargs: Any) -> Payload:
    """A payload for ``data`` (bytes, str, file objects, async iterables...)."""
    return PAYLOAD_REGISTRY.get(data, *args, **kwargs)


def register_payload(factory: PayloadFactory, type: Any, *, order: Order = Order.normal) -> None:
    PAYLOAD_REGISTRY.register(factory, type, order=order)


def payload_type(type: Any, *, order: Order = Order.normal) -> Callable[[_F], _F]:
    """Class decorator: register the decorated payload class for ``type``."""

    def wrap(factory: _F) -> _F:
        register_payload(factory, type, order=order)
        return factory

    return wrap


register_payload(BytesPayload, (bytes, bytearray, memoryview))
register_payload(StringPayload, str)
register_payload(StringIOPayload, io.StringIO)
register_payload(TextIOPayload, io.TextIOBase)
register_payload(BytesIOPayload, io.BytesIO)
register_payload(BufferedReaderPayload, (io.BufferedReader, io.BufferedRandom))
register_payload(IOBasePayload, io.IOBase)
register_payload(StreamReaderPayload, BodyStream)
# Last, so that more specific async iterables (a StreamReader iterates by lines) win.
register_payload(AsyncIterablePayload, AsyncIterable, order=Order.try_last)
