"""Routing, middlewares and responses compared with aiohttp's own server (issue 4).

One application (``_parity_app``) is built with ``aiohttp.web`` in a subprocess and
with ``treadle.web`` in-process on each backend; the same raw requests must give the
same status, body and the headers a user can observe. Differences that are deliberate
are listed in ``KNOWN`` with the reason (and in docs/server.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import anyio
import pytest

from treadle import web

from . import _parity_app
from ._aiohttp_peer import aiohttp_in_subprocess
from ._serving import dechunk, raw_connection, read_until_close, serve

COMPARED_HEADERS = (
    "content-type",
    "content-length",
    "location",
    "allow",
    "set-cookie",
    "content-range",
    "accept-ranges",
    "last-modified",
    "x-mw",
    "x-a",
    "x-b",
    "transfer-encoding",
    "content-encoding",
    "x-why",
)


def request(target: str, method: str = "GET", headers: str = "", body: bytes = b"") -> bytes:
    if body:
        headers += f"Content-Length: {len(body)}\r\n"
    return (
        f"{method} {target} HTTP/1.1\r\nHost: localhost\r\n{headers}Connection: close\r\n\r\n"
    ).encode() + body


FORM = "Content-Type: application/x-www-form-urlencoded\r\n"

CASES = {
    "index": request("/"),
    "head-auto": request("/", "HEAD"),
    "404": request("/nowhere"),
    "405-allow": request("/", "DELETE"),
    "405-post-only": request("/items"),
    "var": request("/users/b%C3%A9a"),
    "regex": request("/num/21"),
    "regex-miss": request("/num/x"),
    "post-json": request("/items", "POST", "Content-Type: application/json\r\n", b'{"a": 1}'),
    "view-get": request("/view"),
    "view-post": request("/view", "POST", body=b"body"),
    "view-405": request("/view", "PUT"),
    "view-head": request("/view", "HEAD"),
    "raise-400": request("/raise/400"),
    "raise-401": request("/raise/401"),
    "raise-403": request("/raise/403"),
    "raise-409-mw": request("/raise/409"),
    "teapot": request("/raise/418"),
    "raise-500": request("/raise/500"),
    "raise-503": request("/raise/503"),
    "return-redirect": request("/return-redirect"),
    "redirect-303": request("/redirect"),
    "204": request("/no-content"),
    "304": request("/not-modified"),
    "crash-500": request("/crash"),
    "cookies": request("/cookies"),
    "headers": request("/headers"),
    "text-charset": request("/text-charset"),
    "stream": request("/stream"),
    "stream-length": request("/stream-length"),
    "json": request("/json"),
    "empty": request("/empty"),
    "file": request("/file"),
    "file-range": request("/file", headers="Range: bytes=5-14\r\n"),
    "file-suffix": request("/file", headers="Range: bytes=-5\r\n"),
    "file-416": request("/file", headers="Range: bytes=500-600\r\n"),
    "file-ims": request("/file", headers="If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n"),
    "file-head": request("/file", "HEAD"),
    "static": request("/static/page.html"),
    "static-404": request("/static/missing.html"),
    "static-dotdot": request("/static/%2e%2e/etc/passwd"),
    "any-patch": request("/any", "PATCH"),
    "any-custom": request("/any", "PURGE"),
    "subapp": request("/api/ping"),
    "subapp-404": request("/api/nothing"),
    "subapp-slash": request("/api/ping/"),
    "domain": b"GET / HTTP/1.1\r\nHost: www.example.org\r\nConnection: close\r\n\r\n",
    "domain-miss": b"GET / HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n",
    "normalize-slash": request("/users/x/"),
    "normalize-merge": request("//users//x?q=1"),
    "normalize-api": request("/api//ping"),
    "options": request("/", "OPTIONS"),
    "more-reason": request("/more/reason"),
    "more-exc-headers": request("/more/exc-headers"),
    "more-absolute-redirect": request("/more/absolute-redirect"),
    "more-204": request("/more/status-204-text"),
    "more-cookie-attrs": request("/more/cookie-attrs"),
    "more-custom-reason": request("/more/custom-reason"),
    "more-json-text": request("/more/json-text"),
    "more-bytes-type": request("/more/bytes-type"),
    "more-stream-head": request("/more/stream-head", "HEAD"),
    "more-set-status": request("/more/set-status"),
    "more-deflate": request("/more/deflate", headers="Accept-Encoding: deflate\r\n"),
    "more-query": request("/more/query?a=1&a=2&b=&a=%20x"),
    "more-head-404": request("/more/none", "HEAD"),
    "head-405": request("/items", "HEAD"),
    "body-post-twice": request("/body/post-twice", "POST", FORM, b"a=1&b=2"),
    "body-read-after-post": request("/body/read-after-post", "POST", FORM, b"a=1&b=2"),
    "body-json-after-text": request("/body/json-after-text", "POST", body=b'{"k": 1}'),
    "body-content-after-read": request("/body/content-after-read", "POST", body=b"abc"),
    "body-flags": request("/body/flags", "POST", body=b"abc"),
    "body-flags-empty": request("/body/flags", "POST"),
    "body-flags-chunked": request("/body/flags", "POST", "Transfer-Encoding: chunked\r\n")
    + b"3\r\nabc\r\n0\r\n\r\n",
}

#: case -> (what differs, why). Only these parts are skipped for that case.
KNOWN: dict[str, tuple[set[str], str]] = {
    "crash-500": ({"body", "content-length"}, "a shorter 500 page; neither shows the error"),
    "file-416": (
        {"accept-ranges", "content-type", "content-length", "transfer-encoding", "last-modified"},
        "the same 416 and Content-Range, framed differently",
    ),
    "more-stream-head": ({"body"}, "aiohttp writes a StreamResponse's body after a HEAD"),
    "static-404": (
        {"body", "x-mw", "content-type", "content-length", "transfer-encoding"},
        "aiohttp returns an empty 404 FileResponse (middlewares see a response); "
        "treadle raises HTTPNotFound (middlewares see the exception, as for any 404)",
    ),
}


class Reply:
    def __init__(self, data: bytes, head_only: bool) -> None:
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        _, status, self.reason = lines[0].split(" ", 2)
        self.status = int(status)
        self.headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.setdefault(name.strip().lower(), []).append(value.strip())
        if not head_only and self.headers.get("transfer-encoding") == ["chunked"]:
            body = dechunk(body)
        self.body = body

    def view(self) -> dict[str, object]:
        seen: dict[str, object] = {"status": self.status, "reason": self.reason, "body": self.body}
        for name in COMPARED_HEADERS:
            values = self.headers.get(name)
            if values is not None:
                seen[name] = sorted(values)
        return seen


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _parity_app.write_root(tmp_path_factory.mktemp("parity") / "root")


@pytest.fixture(scope="module")
def aiohttp_port(root: Path) -> Iterator[int]:
    with aiohttp_in_subprocess(["-m", "tests.server._parity_app", str(root)]) as port:
        yield port


async def fetch(port: int, raw: bytes) -> Reply:
    async with raw_connection(f"http://127.0.0.1:{port}") as stream:
        await stream.send(raw)
        with anyio.fail_after(10):
            data = await read_until_close(stream)
    return Reply(data, raw.startswith(b"HEAD "))


@pytest.fixture
async def treadle_port(root: Path) -> object:
    async with serve(_parity_app.make_app(web, root)) as (url, _):
        yield int(url.rsplit(":", 1)[1])


@pytest.mark.parametrize("case", list(CASES))
async def test_same_answer_as_aiohttp(aiohttp_port: int, treadle_port: int, case: str) -> None:
    raw = CASES[case]
    expected = (await fetch(aiohttp_port, raw)).view()
    got = (await fetch(treadle_port, raw)).view()
    skipped = KNOWN.get(case, (set(), ""))[0]
    for key in sorted(set(expected) | set(got)):
        if key in skipped:
            continue
        if key == "last-modified":
            # FileResponse rounds the mtime down, aiohttp up: each agrees with its own
            # If-Modified-Since check (docs/server.md, "Differences from aiohttp").
            mine, theirs = (parsedate_to_datetime(d[key][0]) for d in (got, expected))  # type: ignore[index]
            assert 0 <= (theirs - mine).total_seconds() <= 1, (case, mine, theirs)
            continue
        assert got.get(key) == expected.get(key), (
            f"{case} {key}: treadle {got.get(key)!r} != aiohttp {expected.get(key)!r}"
        )
