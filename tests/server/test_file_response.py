"""FileResponse: validators, conditional requests, ranges, and add_static serving."""

from __future__ import annotations

import gzip
import os
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from treadle.message import MultipartReader, StreamReader
from treadle.server import UrlDispatcher
from treadle.server._file_response import FileResponse
from treadle.server._mocked import make_mocked_request
from treadle.server._response import ContentCoding

from ._fakes import Parsed, parse

CONTENT = bytes(range(256)) * 4  # 1024 bytes


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.txt"
    path.write_bytes(CONTENT)
    os.utime(path, (1_600_000_000.5, 1_600_000_000.5))
    return path


async def _serve(
    path: Path, headers: dict[str, str] | None = None, method: str = "GET", **kw: Any
) -> Parsed:
    request = make_mocked_request(method, "/", headers or {})
    response = FileResponse(path, **kw)
    await response.prepare(request)
    await response.write_eof()
    return parse(request.writer, method.encode())


async def test_whole_file_with_validators(data_file: Path) -> None:
    parsed = await _serve(data_file)
    assert parsed.status == 200 and parsed.body == CONTENT
    assert parsed.headers["Content-Length"] == "1024"
    assert parsed.headers["Content-Type"] == "text/plain"
    assert parsed.headers["Accept-Ranges"] == "bytes"
    assert parsed.headers["Last-Modified"] == formatdate(1_600_000_000, usegmt=True)
    mtime_ns = data_file.stat().st_mtime_ns
    assert parsed.headers["ETag"] == f'"{mtime_ns:x}-{1024:x}"'


async def test_head_sends_length_without_body(data_file: Path) -> None:
    parsed = await _serve(data_file, method="HEAD")
    assert parsed.status == 200 and parsed.body == b""
    assert parsed.headers["Content-Length"] == "1024"


async def test_content_type_from_headers_is_kept(data_file: Path) -> None:
    request = make_mocked_request("GET", "/")
    response = FileResponse(data_file, headers={"Content-Type": "application/x-custom"})
    await response.prepare(request)
    assert parse(request.writer).headers["Content-Type"] == "application/x-custom"


async def test_if_none_match(data_file: Path) -> None:
    etag = (await _serve(data_file)).headers["ETag"]
    for value in (etag, f"W/{etag}", '"other", ' + etag, "*"):
        parsed = await _serve(data_file, {"If-None-Match": value})
        assert parsed.status == 304 and parsed.body == b""
        assert parsed.headers["ETag"] == etag
        assert "Content-Length" not in parsed.headers
    assert (await _serve(data_file, {"If-None-Match": '"other"'})).status == 200


async def test_if_modified_since(data_file: Path) -> None:
    same = formatdate(1_600_000_000, usegmt=True)
    assert (await _serve(data_file, {"If-Modified-Since": same})).status == 304
    older = formatdate(1_599_999_999, usegmt=True)
    assert (await _serve(data_file, {"If-Modified-Since": older})).status == 200
    assert (await _serve(data_file, {"If-Modified-Since": "garbage"})).status == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3).
    headers = {"If-Modified-Since": same, "If-None-Match": '"other"'}
    assert (await _serve(data_file, headers)).status == 200


async def test_preconditions_fail_with_412(data_file: Path) -> None:
    parsed = await _serve(data_file, {"If-Match": '"other"'})
    assert parsed.status == 412 and parsed.body == b""
    etag = (await _serve(data_file)).headers["ETag"]
    assert (await _serve(data_file, {"If-Match": etag})).status == 200
    assert (await _serve(data_file, {"If-Match": f"W/{etag}"})).status == 412  # strong only
    older = formatdate(1_500_000_000, usegmt=True)
    assert (await _serve(data_file, {"If-Unmodified-Since": older})).status == 412
    newer = formatdate(1_700_000_000, usegmt=True)
    assert (await _serve(data_file, {"If-Unmodified-Since": newer})).status == 200


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=1000-", 1000, 1024),
        ("bytes=-24", 1000, 1024),
        ("bytes=-5000", 0, 1024),
        ("bytes=1020-5000", 1020, 1024),
        ("bytes=5-5", 5, 6),
    ],
)
async def test_single_range(data_file: Path, value: str, start: int, end: int) -> None:
    parsed = await _serve(data_file, {"Range": value})
    assert parsed.status == 206
    assert parsed.body == CONTENT[start:end]
    assert parsed.headers["Content-Range"] == f"bytes {start}-{end - 1}/1024"
    assert parsed.headers["Content-Length"] == str(end - start)


@pytest.mark.parametrize("value", ["bytes=2000-", "bytes=5-1", "bytes=abc", "pages=1-2"])
async def test_unsatisfiable_range_is_416(data_file: Path, value: str) -> None:
    parsed = await _serve(data_file, {"Range": value})
    assert parsed.status == 416 and parsed.body == b""
    assert parsed.headers["Content-Range"] == "bytes */1024"


async def test_multiple_ranges_are_multipart_byteranges(data_file: Path) -> None:
    parsed = await _serve(data_file, {"Range": "bytes=0-9, 100-109, -4"})
    assert parsed.status == 206
    assert parsed.headers["Content-Length"] == str(len(parsed.body))
    ctype = parsed.headers["Content-Type"]
    assert ctype.startswith("multipart/byteranges; boundary=")
    stream = StreamReader()
    stream.feed_data(parsed.body)
    stream.feed_eof()
    reader = MultipartReader({"Content-Type": ctype}, stream)
    parts = []
    async for part in reader:
        parts.append((part.headers["Content-Range"], bytes(await part.read())))  # type: ignore[union-attr]
        assert part.headers["Content-Type"] == "text/plain"  # type: ignore[union-attr]
    assert parts == [
        ("bytes 0-9/1024", CONTENT[0:10]),
        ("bytes 100-109/1024", CONTENT[100:110]),
        ("bytes 1020-1023/1024", CONTENT[1020:]),
    ]


async def test_abusive_ranges_are_ignored(data_file: Path) -> None:
    overlapping = await _serve(data_file, {"Range": "bytes=0-100, 50-150"})
    assert overlapping.status == 200 and overlapping.body == CONTENT
    many = ",".join(f"{i}-{i}" for i in range(0, 40, 2))
    parsed = await _serve(data_file, {"Range": f"bytes={many}"})
    assert parsed.status == 200 and parsed.body == CONTENT


async def test_if_range(data_file: Path) -> None:
    etag = (await _serve(data_file)).headers["ETag"]
    assert (await _serve(data_file, {"Range": "bytes=0-1", "If-Range": etag})).status == 206
    parsed = await _serve(data_file, {"Range": "bytes=0-1", "If-Range": '"old"'})
    assert parsed.status == 200 and parsed.body == CONTENT
    date = formatdate(1_600_000_000, usegmt=True)
    assert (await _serve(data_file, {"Range": "bytes=0-1", "If-Range": date})).status == 206
    old = formatdate(1_000_000_000, usegmt=True)
    assert (await _serve(data_file, {"Range": "bytes=0-1", "If-Range": old})).status == 200


async def test_missing_file_is_404_and_directory_403(tmp_path: Path) -> None:
    assert (await _serve(tmp_path / "nope")).status == 404
    assert (await _serve(tmp_path)).status == 403


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
async def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert (await _serve(fifo)).status == 403


async def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    parsed = await _serve(empty)
    assert parsed.status == 200 and parsed.body == b""
    assert parsed.headers["Content-Length"] == "0"
    assert (await _serve(empty, {"Range": "bytes=0-"})).status == 416


async def test_compressed_file_ignores_ranges(data_file: Path) -> None:
    request = make_mocked_request("GET", "/", {"Accept-Encoding": "gzip", "Range": "bytes=0-1"})
    response = FileResponse(data_file, chunk_size=100)
    response.enable_compression()
    await response.prepare(request)
    await response.write_eof()
    parsed = parse(request.writer)
    assert parsed.status == 200 and parsed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(parsed.body) == CONTENT


async def test_prepare_sends_everything_once(data_file: Path) -> None:
    request = make_mocked_request("GET", "/")
    response = FileResponse(str(data_file))
    writer = await response.prepare(request)
    assert writer is request.writer
    assert await response.prepare(request) is None  # already ended
    assert response.body_length == 1024


# -- add_static ----------------------------------------------------------------------


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("<h1>hi</h1>")
    (root / "sub" / "<b>&x.txt").write_text("escaped")
    return root


async def _static_get(
    router: UrlDispatcher, path: str, headers: dict[str, str] | None = None
) -> Parsed:
    info = router.resolve("GET", path)
    request = make_mocked_request("GET", path, headers or {})
    request._match_info = info
    try:
        response = await info.handler(request)
    except Exception as exc:  # an HTTPException: the server would turn it into a response
        from treadle.server._response import response_from_http_exception

        response = response_from_http_exception(exc)  # type: ignore[arg-type]
    await response.prepare(request)
    await response.write_eof()
    return parse(request.writer)


async def test_add_static_serves_files(static_dir: Path) -> None:
    router = UrlDispatcher()
    router.add_static("/static", static_dir)
    parsed = await _static_get(router, "/static/index.html")
    assert parsed.status == 200 and parsed.body == b"<h1>hi</h1>"
    assert parsed.headers["Content-Type"] == "text/html"
    assert (await _static_get(router, "/static/missing")).status == 404
    assert (await _static_get(router, "/static/%2e%2e/secret")).status == 404
    assert (await _static_get(router, "/static/sub")).status == 403  # no listing
    ranged = await _static_get(router, "/static/index.html", {"Range": "bytes=1-2"})
    assert ranged.status == 206 and ranged.body == b"h1"


async def test_add_static_index_is_escaped(static_dir: Path) -> None:
    router = UrlDispatcher()
    router.add_static("/static", static_dir, show_index=True)
    parsed = await _static_get(router, "/static/sub")
    assert parsed.status == 200
    assert parsed.headers["Content-Type"] == "text/html; charset=utf-8"
    page = parsed.body.decode()
    assert "<b>" not in page.replace("<body>", "")
    assert "&lt;b&gt;&amp;x.txt" in page
    assert 'href="/static/sub/%3Cb%3E&amp;x.txt"' in page
    assert "Index of /sub" in page
    root = (await _static_get(router, "/static/")).body.decode()
    assert 'href="/static/sub/"' in root and ">sub/<" in root


async def test_force_coding(data_file: Path) -> None:
    request = make_mocked_request("GET", "/")
    response = FileResponse(data_file)
    response.enable_compression(ContentCoding.deflate)
    await response.prepare(request)
    assert parse(request.writer).headers["Content-Encoding"] == "deflate"


async def test_precompressed_sibling(data_file: Path) -> None:
    gz = data_file.with_name(data_file.name + ".gz")
    gz.write_bytes(gzip.compress(CONTENT))
    parsed = await _serve(data_file, {"Accept-Encoding": "gzip, deflate"})
    assert parsed.headers["Content-Encoding"] == "gzip"
    assert parsed.headers["Content-Type"] == "text/plain"  # of the original name
    assert parsed.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(parsed.body) == CONTENT
    etag = parsed.headers["ETag"]
    assert (
        await _serve(data_file, {"Accept-Encoding": "gzip", "If-None-Match": etag})
    ).status == 304
    plain = await _serve(data_file, {"Accept-Encoding": "gzip;q=0, br"})
    assert "Content-Encoding" not in plain.headers and plain.body == CONTENT
    assert plain.headers["ETag"] != etag
    br = data_file.with_name(data_file.name + ".br")
    br.write_bytes(b"pretend brotli")
    assert (await _serve(data_file, {"Accept-Encoding": "*"})).headers["Content-Encoding"] == "br"


@pytest.mark.skipif(not hasattr(os, "O_NOFOLLOW"), reason="needs O_NOFOLLOW")
async def test_precompressed_sibling_is_never_a_symlink(tmp_path: Path, data_file: Path) -> None:
    secret = tmp_path / "secret.gz"
    secret.write_bytes(gzip.compress(b"secret"))
    data_file.with_name(data_file.name + ".gz").symlink_to(secret)
    parsed = await _serve(data_file, {"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in parsed.headers and parsed.body == CONTENT
