"""Every payload type: headers, size, what write() sends, and get_payload dispatch."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from treadle.message import (
    PAYLOAD_REGISTRY,
    AsyncIterablePayload,
    BufferedReaderPayload,
    BytesIOPayload,
    BytesPayload,
    IOBasePayload,
    JsonPayload,
    Order,
    Payload,
    PayloadLookupError,
    StreamReader,
    StreamReaderPayload,
    StringIOPayload,
    StringPayload,
    TextIOPayload,
    _payload,
    get_payload,
    payload_type,
)

from ._fakes import MemoryStream, Sink, body_of

T = TypeVar("T")


async def test_bytes_payload_accepts_bytes_like() -> None:
    for value in (b"abc", bytearray(b"abc"), memoryview(b"xabcx")[1:4]):
        payload = BytesPayload(value)
        assert payload.size == 3
        assert payload.content_type == "application/octet-stream"
        assert await body_of(payload) == b"abc"
        assert payload.decode() == "abc"
    with pytest.raises(TypeError):
        BytesPayload("text")  # type: ignore[arg-type]


async def test_string_payload_charset_rules() -> None:
    plain = StringPayload("héllo")
    assert plain.content_type == "text/plain; charset=utf-8"
    assert plain.encoding == "utf-8"
    assert await body_of(plain) == "héllo".encode()
    assert plain.size == len("héllo".encode())

    latin = StringPayload("héllo", encoding="latin-1")
    assert latin.content_type == "text/plain; charset=latin-1"
    assert await body_of(latin) == "héllo".encode("latin-1")

    from_type = StringPayload("héllo", content_type="text/html; charset=cp1252")
    assert from_type.encoding == "cp1252"
    assert await body_of(from_type) == "héllo".encode("cp1252")
    assert from_type.decode("cp1252") == "héllo"


async def test_string_io_payload_reads_the_rest() -> None:
    buffer = io.StringIO("skip:kept")
    buffer.seek(5)
    payload = get_payload(buffer)
    assert isinstance(payload, StringIOPayload)
    assert await body_of(payload) == b"kept"


async def test_json_payload() -> None:
    payload = JsonPayload({"ä": [1, 2]})
    assert payload.content_type == "application/json"
    assert json.loads(await body_of(payload)) == {"ä": [1, 2]}
    custom = JsonPayload([1], dumps=lambda v: "custom", content_type="application/x+json")
    assert await body_of(custom) == b"custom"
    assert custom.content_type == "application/x+json"


async def test_bytes_io_payload_size_counts_from_position() -> None:
    buffer = io.BytesIO(b"0123456789")
    buffer.seek(4)
    payload = get_payload(buffer)
    assert isinstance(payload, BytesIOPayload)
    assert payload.size == 6
    assert await body_of(payload) == b"456789"
    assert buffer.closed


async def test_buffered_reader_payload_from_file(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF" + bytes(range(256)) * 1000)
    with path.open("rb") as file:
        file.seek(4)
        payload = get_payload(file)
        assert isinstance(payload, BufferedReaderPayload)
        assert payload.size == 256_000
        assert payload.filename == "report.pdf"
        assert payload.content_type == "application/pdf"
        assert payload.headers["Content-Disposition"] == 'attachment; filename="report.pdf"'
        sink = Sink()
        await payload.write(sink)
        assert sink.data == bytes(range(256)) * 1000
        assert len(sink.chunks) == 4  # read in 64 KiB chunks
        assert file.closed


async def test_file_reads_go_through_run_in_thread(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 70_000)
    calls: list[Callable[[], Any]] = []

    async def run_in_thread(func: Callable[[], T]) -> T:
        calls.append(func)
        return func()

    payload = get_payload(path.open("rb"), run_in_thread=run_in_thread)
    assert isinstance(payload, IOBasePayload)
    assert await body_of(payload) == b"x" * 70_000
    assert len(calls) == 4  # two reads with data, the empty read, the close


async def test_text_io_payload_encodes(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("naïve\n" * 3, encoding="utf-8")
    with path.open(encoding="utf-8") as file:
        payload = get_payload(file, encoding="latin-1")
        assert isinstance(payload, TextIOPayload)
        assert payload.size is None
        assert payload.content_type == "text/plain; charset=latin-1"
        assert await body_of(payload) == ("naïve\n" * 3).encode("latin-1")


async def test_async_iterable_payload_streams_once() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"a"
        yield bytearray(b"b")

    payload = get_payload(gen())
    assert isinstance(payload, AsyncIterablePayload)
    assert payload.size is None
    assert await body_of(payload) == b"ab"
    with pytest.raises(RuntimeError, match="once"):
        await body_of(payload)
    with pytest.raises(TypeError):
        AsyncIterablePayload([b"sync"])  # type: ignore[arg-type]


async def test_stream_reader_payload_forwards_a_body_stream() -> None:
    stream = MemoryStream(b"forwarded body" * 10, max_piece=5)
    payload = get_payload(stream)
    assert isinstance(payload, StreamReaderPayload)
    assert await body_of(payload) == b"forwarded body" * 10
    # treadle's StreamReader is also async-iterable (by lines): the BodyStream entry
    # must win over the try_last AsyncIterable one, or the body would be re-chunked.
    reader = StreamReader()
    reader.feed_data(b"no newline in this body")
    reader.feed_eof()
    forwarded = get_payload(reader)
    assert type(forwarded) is StreamReaderPayload
    assert await body_of(forwarded) == b"no newline in this body"


def test_get_payload_returns_payloads_unchanged_and_refuses_unknown() -> None:
    payload = BytesPayload(b"x")
    assert get_payload(payload) is payload
    with pytest.raises(PayloadLookupError):
        get_payload(object())
    with pytest.raises(LookupError):  # aiohttp's payload.LookupError is still a LookupError
        get_payload(12)
    assert _payload.LookupError is PayloadLookupError


def test_registration_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_payload, "PAYLOAD_REGISTRY", type(PAYLOAD_REGISTRY)())
    registry = _payload.PAYLOAD_REGISTRY

    class Upper(BytesPayload):
        def __init__(self, value: str, *args: Any, **kwargs: Any) -> None:
            super().__init__(value.upper().encode(), *args, **kwargs)

    registry.register(BytesPayload, object, order=Order.try_last)
    registry.register(StringPayload, str)
    assert isinstance(registry.get("x"), StringPayload)  # try_last, though first in
    assert type(registry.get(b"x")) is BytesPayload
    payload_type(str, order=Order.try_first)(Upper)
    assert isinstance(registry.get("x"), Upper)
    assert isinstance(get_payload("x"), Upper)


def test_headers_content_type_and_disposition() -> None:
    payload = BytesPayload(b"", filename="photo.png", headers={"X-Extra": "1"})
    assert payload.content_type == "image/png"
    assert payload.headers["X-Extra"] == "1"
    explicit = BytesPayload(b"", content_type="text/csv", filename="a.png")
    assert explicit.content_type == "text/csv"
    payload.set_content_disposition("attachment", filename="résumé.pdf")
    disposition = payload.headers["Content-Disposition"]
    assert "filename*=utf-8''r%C3%A9sum%C3%A9.pdf" in disposition
    with pytest.raises(ValueError):
        payload.set_content_disposition("bad type")


def test_header_injection_is_refused() -> None:
    payload = BytesPayload(b"", headers={"X-Evil": "a\r\nInjected: 1"})
    with pytest.raises(ValueError, match="line break"):
        payload._binary_headers  # noqa: B018


def test_payload_is_abstract() -> None:
    with pytest.raises(TypeError):
        Payload(b"")  # type: ignore[abstract]
