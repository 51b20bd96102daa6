"""Real third-party clients against a treadle server, on every backend (issue 4).

The server runs in-process on the test's backend; aiohttp's client runs in a
subprocess (it needs asyncio, the server may be on trio), curl as a subprocess, httpx
in-process (it runs on asyncio and trio through anyio).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from ._issue_app import FILE_BYTES, make_app, write_file
from ._proc import ROOT
from ._serving import serve

CURL = shutil.which("curl")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl is not installed")


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    return write_file(tmp_path)


async def run(args: list[str], timeout: float = 30) -> str:
    with anyio.fail_after(timeout):
        result = await anyio.run_process(args, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout.decode("utf-8", errors="replace")


async def curl(*args: str) -> str:
    assert CURL is not None
    return await run([CURL, "--silent", "--show-error", "--max-time", "20", *args])


# -- aiohttp's client ------------------------------------------------------------------------


async def test_aiohttp_client(data_file: Path) -> None:
    async with serve(make_app(data_file)) as (url, _):
        out = await run([sys.executable, "-m", "tests.server._aiohttp_interop_client", url], 60)
    seen: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    assert seen["index"] == [200, "hello from treadle", "text/plain; charset=utf-8"]
    assert seen["head"] == [200, str(len("hello from treadle")), ""]
    echo = seen["echo"]
    assert (echo["method"], echo["path"], echo["query"]) == ("POST", "/echo", {"x": "1"})
    assert (echo["length"], echo["sha256"]) == (256_000, seen["echo_sha"])
    assert echo["user_agent"].startswith("Python/") and "aiohttp" in echo["user_agent"]
    chunked = seen["echo_chunked"]
    assert chunked["chunked"] is True
    assert (
        chunked["sha256"]
        == hashlib.sha256(b"".join(b"piece %d;" % i for i in range(10))).hexdigest()
    )
    # One pooled connection carried every request (limit=1 and keep-alive).
    assert chunked["peer_port"] == echo["peer_port"]
    assert seen["json"] == {"got": {"a": [1, 2], "b": "é"}}
    assert seen["form"]["title"] == "notes"
    doc = seen["form"]["doc"]
    # aiohttp's client percent-encodes the name and aiohttp's server keeps it so: as here.
    assert (doc["filename"], doc["size"], doc["content_type"]) == ("a%20b.txt", 5000, "text/plain")
    assert doc["sha256"] == hashlib.sha256(b"x" * 5000).hexdigest()
    assert seen["urlencoded"] == {"k": "v", "e": "ü&="}
    assert seen["stream"][0] in ("gzip", "deflate")
    assert seen["stream"][1] == "".join(f"line {i}\n" for i in range(50))
    assert seen["cookie1"] == "seen=" and seen["cookie2"] == "seen=abc123"
    assert seen["redirect"] == [200, url + "/", 1]
    assert seen["range"] == [206, list(FILE_BYTES[10:20])]
    assert seen["missing"] == 404
    assert seen["not_allowed"][0] == 405 and "GET" in seen["not_allowed"][1]
    assert seen["expect_ok"] == [200, "stored 3000"]
    assert seen["expect_refused"] == [403, "no token"]


# -- httpx -----------------------------------------------------------------------------------


async def test_httpx_client(data_file: Path) -> None:
    async def upload() -> AsyncIterator[bytes]:
        for i in range(20):
            yield b"%04d" % i

    async with serve(make_app(data_file)) as (url, _), httpx.AsyncClient(base_url=url) as client:
        with anyio.fail_after(20):
            index = await client.get("/")
            streamed = (await client.post("/echo", content=upload())).json()
            whole = (await client.put("/echo", content=b"z" * 100_000)).json()
            files = {"doc": ("r\u00e9sum\u00e9.txt", b"\x00\x01" * 1000, "application/pdf")}
            form = (await client.post("/form", data={"title": "cv"}, files=files)).json()
            head = await client.head("/file")
            ranged = await client.get("/file", headers={"Range": "bytes=0-1,-2"})
            compressed = await client.get("/stream", headers={"Accept-Encoding": "gzip"})
            cookie1 = await client.get("/cookie")
            cookie2 = await client.get("/cookie")
            redirect = await client.get("/redirect", follow_redirects=True)
            not_modified = await client.get(
                "/file", headers={"If-None-Match": head.headers["ETag"]}
            )
    assert index.text == "hello from treadle"
    assert streamed["chunked"] is True and streamed["length"] == 80
    assert whole["length"] == 100_000 and whole["method"] == "PUT"
    assert streamed["peer_port"] == whole["peer_port"]  # kept alive
    assert form["title"] == "cv"
    assert form["doc"]["filename"] == "r\u00e9sum\u00e9.txt" and form["doc"]["size"] == 2000
    assert form["doc"]["content_type"] == "application/pdf"
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(FILE_BYTES))
    assert ranged.status_code == 206
    assert ranged.headers["Content-Type"].startswith("multipart/byteranges; boundary=")
    assert FILE_BYTES[0:2] in ranged.content and FILE_BYTES[-2:] in ranged.content
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert compressed.text == "".join(f"line {i}\n" for i in range(50))
    assert (cookie1.text, cookie2.text) == ("seen=", "seen=abc123")
    assert redirect.status_code == 200 and redirect.text == "hello from treadle"
    assert [r.status_code for r in redirect.history] == [302]
    assert not_modified.status_code == 304 and not_modified.content == b""


# -- curl ------------------------------------------------------------------------------------


@needs_curl
async def test_curl_get_head_keep_alive_and_http10(data_file: Path) -> None:
    async with serve(make_app(data_file)) as (url, server):
        two = await curl("-w", "|%{http_code} %{num_connects}\\n", f"{url}/", f"{url}/")
        head = await curl("-I", f"{url}/")
        old = await curl("--http1.0", "-i", f"{url}/")
        missing = await curl("-w", "%{http_code}", "-o", "/dev/null", f"{url}/nope")
        allowed = await curl("-X", "DELETE", "-i", f"{url}/")
    # curl reuses the connection for the second URL: no new connect.
    assert two.splitlines() == ["hello from treadle|200 1", "hello from treadle|200 0"]
    assert head.startswith("HTTP/1.1 200 OK\r\n")
    assert re.search(r"(?im)^content-length: 18\r$", head)
    assert head.endswith("\r\n\r\n")  # no body after a HEAD
    assert old.startswith("HTTP/1.1 200 OK\r\n") and old.endswith("hello from treadle")
    assert re.search(r"(?im)^connection: close\r$", old)
    assert missing == "404"
    assert allowed.startswith("HTTP/1.1 405 ")
    assert re.search(r"(?im)^allow: GET,HEAD\r$", allowed)
    assert server.requests_count == 6


@needs_curl
async def test_curl_uploads_form_json_and_chunked(data_file: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"\xff\x00" * 300_000)
    async with serve(make_app(data_file)) as (url, _):
        form = json.loads(
            await curl(
                "-F", "title=report", "-F", f"doc=@{data_file};type=image/png", f"{url}/form"
            )
        )
        posted = json.loads(await curl("--data-binary", f"@{big}", f"{url}/echo"))
        chunked = json.loads(
            await curl(
                "-H", "Transfer-Encoding: chunked", "--data-binary", f"@{big}", f"{url}/echo"
            )
        )
        as_json = json.loads(
            await curl("-H", "Content-Type: application/json", "-d", '{"n": 1}', f"{url}/json")
        )
    assert form["title"] == "report"
    assert form["doc"]["filename"] == "data.bin" and form["doc"]["size"] == len(FILE_BYTES)
    assert form["doc"]["content_type"] == "image/png"
    digest = hashlib.sha256(big.read_bytes()).hexdigest()
    assert (posted["length"], posted["sha256"], posted["chunked"]) == (600_000, digest, False)
    assert (chunked["length"], chunked["sha256"], chunked["chunked"]) == (600_000, digest, True)
    assert posted["user_agent"].startswith("curl/")
    assert as_json == {"got": {"n": 1}}


@needs_curl
async def test_curl_expect_100_continue_accepted_and_refused(
    data_file: Path, tmp_path: Path
) -> None:
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"p" * 50_000)
    expect = ["-H", "Expect: 100-continue", "--expect100-timeout", "10", "-v"]
    async with serve(make_app(data_file)) as (url, _):
        accepted = await run_curl_verbose(
            [*expect, "-H", "X-Token: ok", "-T", str(payload), f"{url}/upload"]
        )
        refused = await run_curl_verbose([*expect, "-T", str(payload), f"{url}/upload"])
    out, err = accepted
    assert out == "stored 50000"
    assert "< HTTP/1.1 100 Continue" in err
    out, err = refused
    assert out == "no token"
    assert "< HTTP/1.1 403 Forbidden" in err and "100 Continue" not in err


async def run_curl_verbose(args: list[str]) -> tuple[str, str]:
    assert CURL is not None
    with anyio.fail_after(30):
        result = await anyio.run_process([CURL, "--silent", "--max-time", "20", *args], check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout.decode(), result.stderr.decode(errors="replace")


@needs_curl
async def test_curl_compressed_range_cookies_and_redirects(data_file: Path, tmp_path: Path) -> None:
    jar = tmp_path / "jar.txt"
    async with serve(make_app(data_file)) as (url, _):
        compressed = await curl("--compressed", "-i", f"{url}/stream")
        await curl("-r", "100-199", "-i", "-o", str(tmp_path / "part"), f"{url}/file")
        first = await curl("-c", str(jar), "-b", str(jar), f"{url}/cookie")
        second = await curl("-c", str(jar), "-b", str(jar), f"{url}/cookie")
        followed = await curl("-L", "-w", "|%{num_redirects}", f"{url}/redirect")
    head, _, body = compressed.partition("\r\n\r\n")
    assert re.search(r"(?im)^content-encoding: (gzip|deflate|br)\r?$", head)
    assert body == "".join(f"line {i}\n" for i in range(50))
    part = (tmp_path / "part").read_bytes()
    assert part.startswith(b"HTTP/1.1 206 Partial Content\r\n")
    assert b"Content-Range: bytes 100-199/%d\r\n" % len(FILE_BYTES) in part
    assert part.endswith(FILE_BYTES[100:200])
    assert (first, second) == ("seen=", "seen=abc123")
    assert followed == "hello from treadle|1"
