"""FormData: urlencoded vs multipart, field kinds, and what a reader gets back."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from multidict import MultiDict

from treadle.message import BodyPartReader, BytesPayload, FormData, MultipartReader, MultipartWriter

from ._fakes import MemoryStream, body_of


async def read_form(form: FormData) -> list[tuple[str | None, str | None, str, bytes]]:
    payload = form()
    assert isinstance(payload, MultipartWriter)
    data = await body_of(payload)
    if payload.size is not None:
        assert payload.size == len(data)
    reader = MultipartReader({"Content-Type": payload.content_type}, MemoryStream(data, seed=3))
    fields = []
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        content_type = part.headers.get("Content-Type", "")
        fields.append((part.name, part.filename, content_type, bytes(await part.read(decode=True))))
    return fields


async def test_plain_fields_are_urlencoded() -> None:
    form = FormData({"q": "tréadle & co", "n": "1"})
    form.add_field("multi", "a")
    form.add_fields(("multi", "b"), MultiDict([("md", "x")]))
    assert not form.is_multipart
    payload = form()
    assert isinstance(payload, BytesPayload)
    assert payload.content_type == "application/x-www-form-urlencoded"
    body = await body_of(payload)
    assert parse_qsl(body.decode()) == [
        ("q", "tréadle & co"),
        ("n", "1"),
        ("multi", "a"),
        ("multi", "b"),
        ("md", "x"),
    ]
    assert await body_of(form()) == body  # urlencoded forms can be generated again


async def test_urlencoded_charset() -> None:
    form = FormData([("k", "é")], charset="latin-1")
    payload = form()
    assert payload.content_type == "application/x-www-form-urlencoded; charset=latin-1"
    assert await body_of(payload) == b"k=%E9"


async def test_files_make_the_form_multipart(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG" + bytes(range(256)) * 300)
    form = FormData()
    form.add_field("title", "Hölle")
    form.add_field("photo", path.open("rb"))
    form.add_field("blob", b"\x00raw", content_type="application/x-raw")
    form.add_field("named", "text file", filename="ü.txt")
    assert form.is_multipart
    fields = await read_form(form)
    assert fields == [
        ("title", None, "text/plain; charset=utf-8", "Hölle".encode()),
        ("photo", "photo.png", "image/png", b"\x89PNG" + bytes(range(256)) * 300),
        ("blob", "blob", "application/x-raw", b"\x00raw"),
        ("named", "ü.txt", "text/plain; charset=utf-8", b"text file"),
    ]
    with pytest.raises(RuntimeError, match="processed"):
        form()


async def test_transfer_encodings_and_forced_multipart() -> None:
    form = FormData(default_to_multipart=True)
    form.add_field("plain", "v")
    form.add_field("b64", b"\xff\x00" * 100, content_transfer_encoding="base64")
    form.add_field("qp", "línea\r\n" * 20, content_transfer_encoding="quoted-printable")
    fields = await read_form(form)
    assert fields == [
        ("plain", None, "text/plain; charset=utf-8", b"v"),
        ("b64", None, "application/octet-stream", b"\xff\x00" * 100),
        ("qp", None, "text/plain; charset=utf-8", ("línea\r\n" * 20).encode()),
    ]


async def test_file_objects_in_add_fields_and_boundary() -> None:
    buffer = io.BytesIO(b"content")
    buffer.name = "/tmp/dir/upload.txt"
    form = FormData([buffer], boundary="fixed-boundary")
    payload = form()
    assert payload.content_type == "multipart/form-data; boundary=fixed-boundary"
    data = await body_of(payload)
    assert b'name="upload.txt"; filename="upload.txt"' in data
    assert b"Content-Length" not in data


def test_bad_fields_are_refused() -> None:
    with pytest.raises(TypeError, match=r"Only io\.IOBase"):
        FormData([("too", "many", "items")])
    with pytest.raises(TypeError):
        FormData().add_field("f", "v", filename=b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        FormData().add_field("f", "v", content_type=1)  # type: ignore[arg-type]
    form = FormData()
    form.add_field("f", object(), filename="x.bin")
    with pytest.raises(TypeError, match="Can not serialize"):
        form()
