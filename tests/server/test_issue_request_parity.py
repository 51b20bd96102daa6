"""Request attributes of PARITY.md, checked against aiohttp's own server (issue 4).

The same app (``_attr_dump``) runs under aiohttp in a subprocess and under treadle on
each backend; identical raw requests must give identical attribute values. Known,
documented differences are listed in ``KNOWN`` (empty: none found so far).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from treadle import web

from . import _attr_dump
from ._aiohttp_peer import aiohttp_in_subprocess
from ._serving import dechunk, raw_connection, read_response, serve

REQUESTS = [
    b"GET /plain HTTP/1.1\r\nHost: example.com\r\n\r\n",
    b"GET /items/book/42?x=1&x=2&y=%C3%A9&flag HTTP/1.1\r\nHost: example.com:8080\r\n"
    b'Cookie: a=1; b="two"; junk\r\nUser-Agent: t/1\r\n\r\n',
    b"GET /%7Euser/caf%C3%A9%20x?q=a+b HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET http://absolute.example/abs/path?k=v HTTP/1.1\r\nHost: ignored\r\n\r\n",
    b"GET /fwd HTTP/1.1\r\nHost: h\r\nForwarded: for=192.0.2.60;proto=https;by=203.0.113.43, "
    b'for="[2001:db8::1]"\r\n\r\n',
    b"GET /cond HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
    b"If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
    b'If-Match: "a", W/"b"\r\nIf-None-Match: *\r\nIf-Range: "r1"\r\nRange: bytes=5-9\r\n\r\n',
    b"GET /cond2 HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: garbage\r\nRange: bytes=-20\r\n\r\n",
    b"GET /cond3 HTTP/1.1\r\nHost: h\r\nRange: bytes=1-2,5-6\r\n\r\n",
    b"GET /old HTTP/1.0\r\n\r\n",
    b"GET /old-ka HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n",
    b"POST /form HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: 17\r\n\r\na=1&b=%C3%A9&a=+3",
    b"POST /json HTTP/1.1\r\nHost: h\r\nContent-Type: application/json; charset=utf-8\r\n"
    b'Content-Length: 13\r\n\r\n{"k": [1, 2]}',
    b"POST /text HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain; charset=latin-1\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n3\r\ncaf\r\n1\r\n\xe9\r\n0\r\n\r\n",
    b"PUT /empty HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
]

#: Attributes where treadle deliberately differs (name -> why); compared for the rest.
KNOWN: dict[str, str] = {}

#: Depends on the connection, not on the request.
VOLATILE = {"remote"}


@pytest.fixture(scope="module")
def aiohttp_port() -> Iterator[int]:
    with aiohttp_in_subprocess(["-m", "tests.server._attr_dump", "aiohttp"]) as port:
        yield port


async def ask(port: int, raw: bytes) -> dict[str, Any]:
    async with raw_connection(f"http://127.0.0.1:{port}") as stream:
        await stream.send(raw)
        with anyio.fail_after(10):
            data = await read_response(stream, bytearray())
    head, _, body = data.partition(b"\r\n\r\n")
    # aiohttp answers HTTP/1.0 requests with "HTTP/1.0 200"; treadle with its own
    # version, as RFC 9110 2.5 asks: both are fine for an HTTP/1.0 client.
    assert head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")), data
    if b"Transfer-Encoding: chunked" in head:
        body = dechunk(body)
    result: dict[str, Any] = json.loads(body)
    return result


@pytest.mark.parametrize("raw", REQUESTS, ids=[r.split(b" ", 2)[1].decode() for r in REQUESTS])
async def test_request_attributes_match_aiohttp(aiohttp_port: int, raw: bytes) -> None:
    expected = await ask(aiohttp_port, raw)
    async with serve(_attr_dump.make_app(web)) as (url, _):
        got = await ask(int(url.rsplit(":", 1)[1]), raw)
    assert set(got) == set(expected)
    for name in sorted(expected):
        if name in KNOWN or name in VOLATILE:
            continue
        value = got[name]
        if name in ("headers", "url"):
            value = _normalise_port(value, got, expected)
        assert value == expected[name], (
            f"{name}: treadle {got[name]!r} != aiohttp {expected[name]!r}"
        )
    assert got["remote"] == expected["remote"] == "127.0.0.1"


def _normalise_port(value: Any, got: dict[str, Any], expected: dict[str, Any]) -> Any:
    return value
