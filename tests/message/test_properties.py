"""Hypothesis properties of the multipart reader and writer."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from treadle.message import (
    BodyPartReader,
    DecompressionError,
    MultipartError,
    MultipartReader,
    MultipartWriter,
    Payload,
    compress,
)

from ._fakes import MemoryStream, body_of

SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FRAGMENTS = [
    b"--b",
    b"--b--",
    b"\r\n",
    b"\n",
    b"--",
    b" ",
    b"X: 1",
    b"Content-Disposition: form-data; name=\"f\"; filename*=utf-8''%E2%82",
    b"Content-Type: multipart/mixed; boundary=c",
    b"Content-Type: text/plain; charset=bogus",
    b"--c",
    b"Content-Transfer-Encoding: base64",
    b"Content-Transfer-Encoding: quoted-printable",
    b"Content-Encoding: gzip",
    b"Content-Encoding: br, zstd",
    compress(b"x" * 100, "gzip")[:20],
    b"QUJD",
    b"=\r",
]
ignore_disposition_warnings = pytest.mark.filterwarnings(
    "ignore::treadle.message.BadContentDispositionHeader",
    "ignore::treadle.message.BadContentDispositionParam",
)


async def consume(reader: MultipartReader) -> list[Any]:
    items: list[Any] = []
    async for part in reader:
        if isinstance(part, MultipartReader):
            items.append(await consume(part))
        else:
            body = bytes(await part.read(decode=True))
            items.append((part.name, part.filename, body))
    return items


def noisy_bodies() -> st.SearchStrategy[bytes]:
    pieces = st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=12))
    return st.lists(pieces, max_size=40).map(b"".join)


@ignore_disposition_warnings
@SETTINGS
@given(body=st.one_of(st.binary(max_size=300), noisy_bodies()), seed=st.integers(0, 9))
async def test_any_bytes_parse_or_raise_documented_errors(body: bytes, seed: int) -> None:
    reader = MultipartReader(
        {"Content-Type": "multipart/mixed; boundary=b"},
        MemoryStream(body, seed=seed, max_piece=5),
        max_decompressed_size=10_000,
    )
    try:
        await consume(reader)
    except (MultipartError, DecompressionError):
        return
    assert reader.at_eof()


filenames = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20
)
bodies = st.one_of(st.binary(max_size=400), st.sampled_from([b"", b"\r\n--", b"--b\r\n\r\n"]))
part_specs = st.tuples(
    bodies,
    st.one_of(st.none(), filenames),
    st.sampled_from(["", "base64", "quoted-printable"]),
    st.sampled_from(["", "gzip", "deflate"]),
)


@st.composite
def writers(draw: st.DrawFn, depth: int = 0) -> tuple[MultipartWriter, list[Any]]:
    """A writer with random parts (maybe nested) and what a reader must find in it."""
    subtype = draw(st.sampled_from(["mixed", "related", "alternative"]))
    writer = MultipartWriter(subtype)
    expected: list[Any] = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 2 and draw(st.integers(0, 5)) == 0:
            child, child_expected = draw(writers(depth + 1))
            writer.append(child)
            expected.append(child_expected)
            continue
        body, filename, te, ce = draw(part_specs)
        headers = {}
        if te:
            headers["Content-Transfer-Encoding"] = te
        if ce:
            headers["Content-Encoding"] = ce
        part: Payload = writer.append(body, headers)
        if filename is not None:
            part.set_content_disposition("attachment", filename=filename)
        expected.append((None, filename, body))
    return writer, expected


@SETTINGS
@given(data=writers(), cuts=st.lists(st.integers(0, 5000), max_size=12))
async def test_writer_reader_round_trip_at_any_split(
    data: tuple[MultipartWriter, list[Any]], cuts: list[int]
) -> None:
    writer, expected = data
    wire = await body_of(writer)
    if writer.size is not None:
        assert writer.size == len(wire)
    reader = MultipartReader({"Content-Type": writer.content_type}, MemoryStream(wire, cuts=cuts))
    assert await consume(reader) == expected


@SETTINGS
@given(name=filenames, disptype=st.sampled_from(["form-data", "attachment", "inline"]))
async def test_disposition_names_survive_the_round_trip(name: str, disptype: str) -> None:
    writer = MultipartWriter("form-data" if disptype == "form-data" else "mixed")
    writer.append(b"x").set_content_disposition(disptype, name=name, filename=name)
    reader = MultipartReader(
        {"Content-Type": writer.content_type}, MemoryStream(await body_of(writer))
    )
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    if any(c in name for c in "\t\r\n\x7f") and disptype == "form-data":
        return  # control characters are percent-encoded, as browsers do
    assert (part.name, part.filename) == (name, name)
