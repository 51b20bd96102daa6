"""request.post() and request.multipart(): forms, file fields and the size bound."""

from __future__ import annotations

import pytest

from treadle.message import BodyPartReader, FormData
from treadle.server import FileField, HTTPBadRequest, HTTPRequestEntityTooLarge

from ._fakes import exchange

BOUNDARY = "treadle-boundary"


def _multipart(*parts: tuple[str, bytes]) -> bytes:
    """A multipart/form-data body from (part headers, content) pairs."""
    out = b""
    for headers, content in parts:
        out += f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def _request(body: bytes, content_type: str, *, method: str = "POST", **kw: object) -> object:
    head = (
        f"{method} /form HTTP/1.1\r\nHost: h\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return exchange(head + body, **kw)  # type: ignore[arg-type]


async def test_urlencoded() -> None:
    request = _request(b"a=1&b=caf%C3%A9&a=2&empty=", "application/x-www-form-urlencoded")
    form = await request.post()  # type: ignore[attr-defined]
    assert form.getall("a") == ["1", "2"]
    assert form["b"] == "café" and form["empty"] == ""
    assert await request.post() is form  # type: ignore[attr-defined]


async def test_urlencoded_with_charset() -> None:
    body = b"name=%E9t%E9"
    request = _request(body, "application/x-www-form-urlencoded; charset=latin-1")
    assert (await request.post())["name"] == "été"  # type: ignore[attr-defined]


async def test_post_ignores_other_types_and_methods() -> None:
    assert await _request(b"{}", "application/json").post() == {}  # type: ignore[attr-defined]
    request = exchange(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert await request.post() == {}


async def test_multipart_fields_and_files() -> None:
    body = _multipart(
        ('Content-Disposition: form-data; name="title"', "héllo".encode()),
        (
            'Content-Disposition: form-data; name="upload"; filename="notes.txt"\r\n'
            "Content-Type: text/plain",
            b"file contents\r\nline two",
        ),
        (
            'Content-Disposition: form-data; name="blob"\r\nContent-Type: application/x-thing',
            b"\x00\x01",
        ),
        ('Content-Disposition: form-data; name="title"', b"second"),
    )
    request = _request(body, f"multipart/form-data; boundary={BOUNDARY}")
    form = await request.post()  # type: ignore[attr-defined]
    assert form.getall("title") == ["héllo", "second"]
    assert form["blob"] == b"\x00\x01"
    upload = form["upload"]
    assert isinstance(upload, FileField)
    assert upload.name == "upload" and upload.filename == "notes.txt"
    assert upload.content_type == "text/plain"
    assert upload.headers["Content-Type"] == "text/plain"
    assert upload.file.read() == b"file contents\r\nline two"
    upload.file.close()


async def test_multipart_built_by_formdata() -> None:
    form = FormData()
    form.add_field("field", "value")
    form.add_field("file", b"data" * 100, filename="d.bin", content_type="application/x-bin")
    payload = form()
    chunks: list[bytes] = []

    class Sink:
        async def write(self, chunk: bytes) -> None:
            chunks.append(chunk)

    await payload.write(Sink())
    request = _request(b"".join(chunks), payload.content_type)
    result = await request.post()  # type: ignore[attr-defined]
    assert result["field"] == "value"
    assert result["file"].file.read() == b"data" * 100
    result["file"].file.close()


async def test_multipart_bounded_across_the_whole_form() -> None:
    # Each field is under the limit, the form is not.
    body = _multipart(
        ('Content-Disposition: form-data; name="a"', b"x" * 60),
        ('Content-Disposition: form-data; name="b"; filename="f"', b"y" * 60),
    )
    request = _request(body, f"multipart/form-data; boundary={BOUNDARY}", client_max_size=100)
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await request.post()  # type: ignore[attr-defined]
    assert info.value.status == 413


async def test_multipart_one_big_field_is_refused() -> None:
    body = _multipart(('Content-Disposition: form-data; name="a"', b"x" * 500))
    request = _request(body, f"multipart/form-data; boundary={BOUNDARY}", client_max_size=100)
    with pytest.raises(HTTPRequestEntityTooLarge):
        await request.post()  # type: ignore[attr-defined]


async def test_urlencoded_bounded() -> None:
    request = _request(b"a=" + b"x" * 200, "application/x-www-form-urlencoded", client_max_size=100)
    with pytest.raises(HTTPRequestEntityTooLarge):
        await request.post()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "body",
    [
        b'--treadle-boundary\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end',
        b"garbage without any boundary",
    ],
)
async def test_malformed_multipart_is_400(body: bytes) -> None:
    request = _request(body, f"multipart/form-data; boundary={BOUNDARY}")
    with pytest.raises(HTTPBadRequest):
        await request.post()  # type: ignore[attr-defined]


async def test_bad_charset_is_400() -> None:
    request = _request(b"a=1", "application/x-www-form-urlencoded; charset=no-such-codec")
    with pytest.raises(HTTPBadRequest):
        await request.post()  # type: ignore[attr-defined]
    # As urllib and aiohttp: a bad escape decodes to U+FFFD rather than failing.
    request = _request(b"a=%FF", "application/x-www-form-urlencoded")
    assert (await request.post())["a"] == "\ufffd"  # type: ignore[attr-defined]


async def test_multipart_streaming_reader() -> None:
    body = _multipart(
        ('Content-Disposition: form-data; name="one"', b"1"),
        ('Content-Disposition: form-data; name="two"', b"2"),
    )
    request = _request(body, f"multipart/form-data; boundary={BOUNDARY}")
    reader = await request.multipart()  # type: ignore[attr-defined]
    seen = []
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        seen.append((part.name, bytes(await part.read())))
    assert seen == [("one", b"1"), ("two", b"2")]


async def test_post_on_a_body_cut_short_raises() -> None:
    body = b"a=1&b=2"
    head = (
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body) + 10}\r\n\r\n"
    ).encode()
    request = exchange(head + body, eof=False)
    request.content.set_exception(ConnectionResetError("gone"))
    with pytest.raises(ConnectionResetError):
        await request.post()
