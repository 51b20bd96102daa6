"""MultipartWriter -> MultipartReader round trips, the wire format, and reader errors."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from treadle.message import (
    BodyPartReader,
    DecompressionSizeError,
    MultipartError,
    MultipartLimitError,
    MultipartReader,
    MultipartWriter,
    StringPayload,
    compress,
)

from ._fakes import MemoryStream, body_of

GIF = b"GIF89a" + bytes(range(256)) * 40 + b"\r\n--not-the-boundary\r\n"


def reader_for(writer: MultipartWriter, data: bytes, seed: int = 0, **kw: Any) -> MultipartReader:
    headers = {"Content-Type": writer.content_type}
    return MultipartReader(headers, MemoryStream(data, seed=seed), **kw)


def raw_reader(
    body: bytes, boundary: str = "b", subtype: str = "mixed", **kw: Any
) -> MultipartReader:
    headers = {"Content-Type": f"multipart/{subtype}; boundary={boundary}"}
    return MultipartReader(headers, MemoryStream(body, seed=1), **kw)


async def test_wire_format_and_size() -> None:
    writer = MultipartWriter("mixed", boundary="XyZ")
    writer.append("hello")
    writer.append(b"\x00\x01", {"Content-Type": "application/x-bin"})
    data = await body_of(writer)
    assert data == (
        b"--XyZ\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n"
        b"hello\r\n"
        b"--XyZ\r\n"
        b"Content-Type: application/x-bin\r\nContent-Length: 2\r\n\r\n"
        b"\x00\x01\r\n"
        b"--XyZ--\r\n"
    )
    assert writer.size == len(data)
    assert writer.content_type == "multipart/mixed; boundary=XyZ"
    assert len(writer) == 2 and bool(MultipartWriter())
    assert writer.decode().encode("latin-1") == data


async def test_nested_round_trip_with_files_form_json_and_encodings() -> None:
    outer = MultipartWriter("mixed")
    outer.append_json({"key": "välue", "n": [1, 2]})
    outer.append_form([("a", "1"), ("b", "x y&z")])
    image = outer.append(io.BytesIO(GIF), {"Content-Type": "image/gif"})
    image.set_content_disposition("attachment", filename="bild_ä €.gif")
    outer.append("base64 text ü" * 50, {"Content-Transfer-Encoding": "base64", "X-Tag": "b64"})
    outer.append(GIF, {"Content-Transfer-Encoding": "quoted-printable"})
    outer.append(b"squeezed" * 1000, {"Content-Encoding": "gzip"})
    with MultipartWriter("related") as inner:
        inner.append("inner text")
        inner.append(GIF, {"Content-Encoding": "deflate", "Content-Transfer-Encoding": "base64"})
    outer.append(inner)
    assert outer.size is None  # encoded parts have no size known in advance
    data = await body_of(outer)

    for seed in range(5):
        reader = reader_for(outer, data, seed)
        part = await reader.next()
        assert isinstance(part, BodyPartReader)
        assert await part.json() == {"key": "välue", "n": [1, 2]}
        part = await reader.next()
        assert isinstance(part, BodyPartReader)
        assert await part.form() == [("a", "1"), ("b", "x y&z")]
        part = await reader.next()
        assert isinstance(part, BodyPartReader)
        assert part.filename == "bild_ä €.gif"
        assert part.headers["Content-Type"] == "image/gif"
        assert await part.read() == GIF
        part = await reader.next()
        assert isinstance(part, BodyPartReader)
        assert part.headers["X-Tag"] == "b64"
        raw = bytes(await part.read())  # still base64 as on the wire, in 76-char lines
        assert "ü".encode() not in raw and raw.count(b"\r\n") == len(raw) // 78 + 1
        assert part.decode(raw) == ("base64 text ü" * 50).encode()
        part = await reader.next()
        assert isinstance(part, BodyPartReader)
        assert await part.read(decode=True) == GIF
        part = await reader.next()
        assert isinstance(part, BodyPartReader)
        assert await part.read(decode=True) == b"squeezed" * 1000
        nested = await reader.next()
        assert isinstance(nested, MultipartReader)
        assert nested.headers["Content-Type"].startswith("multipart/related")
        first = await nested.next()
        assert isinstance(first, BodyPartReader)
        assert await first.text() == "inner text"
        second = await nested.next()
        assert isinstance(second, BodyPartReader)
        assert await second.read(decode=True) == GIF
        assert await nested.next() is None
        assert await reader.next() is None
        assert reader.at_eof()

    reader = reader_for(outer, data)
    texts = []
    async for part in reader:
        if isinstance(part, BodyPartReader) and part.headers.get("X-Tag") == "b64":
            texts.append(await part.text())
    assert texts == ["base64 text ü" * 50]


async def test_form_data_round_trip_with_non_ascii_names() -> None:
    writer = MultipartWriter("form-data")
    field = writer.append("value")
    field.set_content_disposition("form-data", name="naïve field")
    upload = writer.append(b"file body")
    upload.set_content_disposition("form-data", name="up", filename='we"ird\\näme.txt')
    plain = writer.append(b"unnamed")  # gets a default name (section-2)
    assert "Content-Length" not in plain.headers  # RFC 7578 4.8
    data = await body_of(writer)
    assert "naïve field".encode() in data  # raw UTF-8, no filename*, as browsers send
    assert b"filename*" not in data
    reader = reader_for(writer, data)
    names = []
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        names.append((part.name, part.filename, bytes(await part.read())))
    assert names == [
        ("naïve field", None, b"value"),
        ("up", 'we"ird\\näme.txt', b"file body"),
        ("section-2", None, b"unnamed"),
    ]


async def test_skipping_parts_and_partial_reads() -> None:
    writer = MultipartWriter()
    for i in range(5):
        writer.append(f"line one {i}\nline two\n" + "x" * 20000)
    data = await body_of(writer)
    reader = reader_for(writer, data)
    first = await reader.next()
    assert isinstance(first, BodyPartReader)
    assert await first.readline() == b"line one 0\n"
    assert await first.read_chunk(4) == b"line"
    second = None
    async for part in reader:  # the rest of part 0 is skipped
        assert isinstance(part, BodyPartReader)
        second = part
        break
    assert second is not None
    assert await second.readline() == b"line one 1\n"
    await second.release()
    assert second.at_eof()
    assert await second.read() == bytearray()
    third = await reader.next()  # part 2, not read at all: skipped whole by next()
    assert isinstance(third, BodyPartReader)
    fourth = await reader.next()
    assert isinstance(fourth, BodyPartReader)
    assert await fourth.readline() == b"line one 3\n"
    await reader.release()
    assert reader.at_eof()
    assert await reader.next() is None


async def test_body_part_iteration_and_chunks() -> None:
    writer = MultipartWriter()
    writer.append(b"A" * 30000)
    reader = reader_for(writer, await body_of(writer))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    sizes = []
    while chunk := await part.read_chunk(1000):
        assert set(chunk) == {ord("A")}
        sizes.append(len(chunk))
    assert sum(sizes) == 30000 and max(sizes) <= 1000
    writer = MultipartWriter()
    writer.append(b"whole")
    reader = reader_for(writer, await body_of(writer))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert [bytes(b) async for b in part] == [b"whole"]


async def test_preamble_epilogue_folding_and_charset() -> None:
    body = (
        b"This is the preamble.\r\n--b\r\n"
        b"Content-Type: text/plain;\r\n charset=latin-1\r\n\r\n"
        b"caf\xe9\r\n--b--\r\nepilogue is ignored"
    )
    part = await raw_reader(body).next()
    assert isinstance(part, BodyPartReader)
    assert part.get_charset("x") == "latin-1"
    assert await part.text() == "café"


async def test_form_data_charset_field() -> None:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\nlatin-1\r\n'
        b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\ncaf\xe9\r\n--b--\r\n'
    )
    reader = raw_reader(body, subtype="form-data")
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert part.name == "f"
    assert await part.text() == "café"
    assert await reader.next() is None
    # Only a leading _charset_ field is taken as the default; a later one is a field.
    body = (
        b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n'
        b'--b\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\nlatin-1\r\n--b--\r\n'
    )
    parts = [part async for part in raw_reader(body, subtype="form-data")]
    assert [p.name for p in parts if isinstance(p, BodyPartReader)] == ["f", "_charset_"]


async def test_form_data_ignores_content_encoding() -> None:
    packed = compress(b"data", "gzip")
    body = b"--b\r\nContent-Encoding: gzip\r\n\r\n" + packed + b"\r\n--b--\r\n"
    part = await raw_reader(body, subtype="form-data").next()
    assert isinstance(part, BodyPartReader)
    assert await part.read(decode=True) == packed
    part = await raw_reader(body).next()
    assert isinstance(part, BodyPartReader)
    assert await part.read(decode=True) == b"data"
    writer = MultipartWriter("form-data")
    with pytest.raises(ValueError, match="Content-Encoding"):
        writer.append(b"x", {"Content-Encoding": "gzip"})


async def test_decompression_bomb_in_a_part() -> None:
    packed = compress(b"\0" * 2**22, "gzip")
    body = b"--b\r\nContent-Encoding: gzip\r\n\r\n" + packed + b"\r\n--b--\r\n"
    part = await raw_reader(body, max_decompressed_size=2**20).next()
    assert isinstance(part, BodyPartReader)
    with pytest.raises(DecompressionSizeError):
        await part.read(decode=True)


def test_writer_refuses_bad_boundaries_and_encodings() -> None:
    for boundary in ("", "x" * 71, "ends with space ", "nön-ascii", "semi;colon", "a\r\nb"):
        with pytest.raises(ValueError, match="boundary"):
            MultipartWriter(boundary=boundary)
    quoted = MultipartWriter(boundary="with space/and:colon")
    assert quoted.content_type == 'multipart/mixed; boundary="with space/and:colon"'
    with pytest.raises(ValueError):
        MultipartWriter("bad subtype")
    with pytest.raises(ValueError, match="Transfer"):
        MultipartWriter().append(b"x", {"Content-Transfer-Encoding": "uuencode"})
    with pytest.raises(ValueError):
        MultipartWriter().append(b"x", {"Content-Encoding": "compress"})
    with pytest.raises(ValueError, match="line break"):
        MultipartWriter().append(b"x", {"X-Header": "a\nb"})


async def test_quoted_boundary_round_trip() -> None:
    writer = MultipartWriter(boundary="with space/and:colon")
    writer.append(StringPayload("ok"))
    part = await reader_for(writer, await body_of(writer)).next()
    assert isinstance(part, BodyPartReader)
    assert await part.text() == "ok"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Content-Type": "text/plain"}, "multipart/\\* content type expected"),
        ({"Content-Type": "multipart/mixed"}, "boundary"),
        ({"Content-Type": "multipart/mixed; boundary=" + "x" * 71}, "boundary"),
        ({}, "content type expected"),
    ],
)
def test_reader_needs_a_multipart_content_type(headers: dict[str, str], message: str) -> None:
    with pytest.raises(MultipartError, match=message):
        MultipartReader(headers, MemoryStream(b""))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "before its first boundary"),
        (b"no boundary here\r\n", "before its first boundary"),
        (b"--b\r\nX: 1\r\n\r\nbody without end", "closing boundary is missing"),
        (b"--b\r\nX: 1\r\n\r\nbody\r\n--b", "ended right after a boundary"),
        (b"--b\r\nX: 1\r\n\r\nbody\r\n--bogus\r\n", "invalid boundary line"),
        (b"--b\r\nX: 1\r\n", "inside a part's headers"),
        (b"--b\r\nno colon\r\n\r\nx\r\n--b--", "invalid part header"),
        (b"--b\r\nBad Name: 1\r\n\r\nx\r\n--b--", "invalid part header"),
        (b"--b\r\nX: a\x00b\r\n\r\nx\r\n--b--", "invalid part header"),
    ],
)
async def test_malformed_bodies_raise(body: bytes, message: str) -> None:
    reader = raw_reader(body)
    with pytest.raises(MultipartError, match=message):
        async for part in reader:
            await part.release()


@pytest.mark.parametrize(
    ("body", "limits", "message"),
    [
        (b"--b\r\n\r\n" + b"x" * 5000 + b"\r\n--b--", {"max_size": 4000}, "max_size"),
        (b"--b\r\n\r\nx\r\n" * 5 + b"--b--", {"max_parts": 4}, "max_parts"),
        (b"--b\r\n" + b"X: 1\r\n" * 9 + b"\r\n\r\n--b--", {"max_headers": 8}, "max_headers"),
        (
            b"--b\r\nX: " + b"v" * 200 + b"\r\n\r\n\r\n--b--",
            {"max_field_size": 100},
            "max_field_size=100",
        ),
        (
            b"--b\r\nX: 1\r\n" + b" v" * 60 + b"\r\n\r\n\r\n--b--",
            {"max_field_size": 100},
            "max_field_size",
        ),
        (b"p" * 300 + b"\r\n--b\r\n\r\n\r\n--b--", {"max_line_size": 100}, "preamble"),
        (
            b"--b\r\n\r\nx\r\n--b" + b" " * 300 + b"\r\n\r\n\r\n--b--",
            {"max_line_size": 100},
            "boundary line exceeds max_line_size=100",
        ),
    ],
)
async def test_limits(body: bytes, limits: dict[str, int], message: str) -> None:
    reader = raw_reader(body, **limits)
    with pytest.raises(MultipartLimitError, match=message) as info:
        async for part in reader:
            await part.release()
    assert info.value.status_hint == 413


async def test_nesting_depth_limit_and_readline_limit() -> None:
    writer = MultipartWriter(boundary="level0")
    current = writer
    for depth in range(1, 5):
        child = MultipartWriter(boundary=f"level{depth}")
        current.append(child)
        current = child
    current.append("deep")
    data = await body_of(writer)
    reader = reader_for(writer, data, max_depth=3)
    with pytest.raises(MultipartLimitError, match="max_depth"):
        item: Any = reader
        while isinstance(item, MultipartReader):
            item = await item.next()
    reader = reader_for(writer, data, max_depth=4)
    item = reader
    while isinstance(item, MultipartReader):
        item = await item.next()
    assert isinstance(item, BodyPartReader)
    assert await item.text() == "deep"

    body = b"--b\r\n\r\n" + b"y" * 500 + b"\r\n--b--"
    part = await raw_reader(body, max_line_size=100).next()
    assert isinstance(part, BodyPartReader)
    with pytest.raises(MultipartLimitError, match="max_line_size"):
        await part.readline()


async def test_broken_nested_body_does_not_swallow_the_outer_one() -> None:
    body = (
        b"--outer\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n"
        b"--inner\r\n\r\nunterminated inner part\r\n--outer\r\n\r\nsecond\r\n--outer--\r\n"
    )
    reader = raw_reader(body, boundary="outer")
    nested = await reader.next()
    assert isinstance(nested, MultipartReader)
    part = await nested.next()
    assert isinstance(part, BodyPartReader)
    with pytest.raises(MultipartError, match="closing boundary is missing"):
        await part.read()
    second = await reader.next()
    assert isinstance(second, BodyPartReader)
    assert await second.read() == b"second"


async def test_bad_base64_and_unknown_transfer_encoding_and_charset() -> None:
    for headers, error in (
        (b"Content-Transfer-Encoding: base64\r\n", "base64"),
        (b"Content-Transfer-Encoding: x-uue\r\n", "Content-Transfer-Encoding"),
    ):
        body = b"--b\r\n" + headers + b"\r\n@@@a\r\n--b--\r\n"
        part = await raw_reader(body).next()
        assert isinstance(part, BodyPartReader)
        with pytest.raises(MultipartError, match=error):
            await part.read(decode=True)
    body = b"--b\r\nContent-Type: text/plain; charset=nope\r\n\r\nx\r\n--b--\r\n"
    part = await raw_reader(body).next()
    assert isinstance(part, BodyPartReader)
    with pytest.raises(MultipartError, match="charset"):
        await part.text()


async def test_json_and_form_helpers_on_empty_and_charsets() -> None:
    writer = MultipartWriter()
    writer.append(b"", {"Content-Type": "application/json"})
    writer.append(json.dumps({"ö": 1}).encode("utf-16"), {"Content-Type": "application/json"})
    writer.append(b"", {"Content-Type": "application/x-www-form-urlencoded"})
    reader = reader_for(writer, await body_of(writer))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert await part.json() is None
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert await part.json(encoding="utf-16") == {"ö": 1}
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert await part.form() == []


@pytest.mark.parametrize("size", [1, 3, 64])
async def test_small_chunks_from_one_buffered_piece(size: int) -> None:
    first = b"a\r\n--c\r\n-\r" * 50 + b"\r\n-"  # near-delimiters in the body
    body = b"--b\r\n\r\n" + first + b"\r\n--b\r\n\r\nsecond\r\n--b--\r\n"
    headers = {"Content-Type": "multipart/mixed; boundary=b"}
    reader = MultipartReader(headers, MemoryStream(body, cuts=[]))  # one readany() piece
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    chunks = []
    while chunk := await part.read_chunk(size):
        assert len(chunk) <= size
        chunks.append(chunk)
    assert b"".join(chunks) == first
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert await part.read() == b"second"
    assert await reader.next() is None
