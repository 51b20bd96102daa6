"""Bad input, both ways, through ``ClientSession`` on every backend.

From the server: a malformed head raises a ``ClientResponseError`` naming the URL; a
body cut short or badly framed or coded raises ``ClientPayloadError`` from every reader
and is never returned shorter; arbitrary bytes never hang the client, never raise
anything but a ``ClientError``, and never leave a pool slot behind. From the caller: a
method, URL, header, cookie or proxy header that would inject a line is refused with
``ValueError`` before anything is sent.
"""

from __future__ import annotations

import gzip
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

import treadle as aiohttp
from treadle.protocol import Request

from ._peer_server import PeerHandler, PeerServer, peer_server

# -- malformed response heads ---------------------------------------------------------------

BAD_HEADS = {
    "status-words-swapped": b"HTTP/1.1 OK 200\r\n\r\n",
    "not-http": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    "status-out-of-range": b"HTTP/1.1 1000 Big\r\nContent-Length: 0\r\n\r\n",
    "header-without-colon": b"HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n",
    "space-before-colon": b"HTTP/1.1 200 OK\r\nX-Bad : v\r\nContent-Length: 0\r\n\r\n",
    "control-char-in-name": b"HTTP/1.1 200 OK\r\nX\x01Y: v\r\nContent-Length: 0\r\n\r\n",
    "nul-in-value": b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n",
    "bad-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
    "negative-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    "conflicting-content-lengths": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde"
    ),
    "unknown-transfer-coding": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nabcde"
    ),
    "too-many-headers": b"HTTP/1.1 200 OK\r\n" + b"X-H: v\r\n" * 200 + b"\r\n",
    "header-line-too-long": b"HTTP/1.1 200 OK\r\nX-Long: " + b"v" * 10_000 + b"\r\n\r\n",
}


def writes(data: bytes, close: bool = True) -> Any:
    async def respond(request: Request, body: bytes, handler: PeerHandler) -> None:
        assert handler.conn is not None
        handler.conn.write(data)
        if close:
            handler.conn.close()

    return respond


async def settled(session: aiohttp.ClientSession, server: PeerServer) -> None:
    """The pool holds nothing in use and every closed socket is gone from the server."""
    connector = session.connector
    assert connector is not None
    pool = connector._pool
    for _ in range(200):
        if pool.in_use == 0 and server.open == pool.idle_count:
            break
        await anyio.sleep(0.005)
    assert pool.in_use == 0 and pool.waiting == 0
    assert server.open == pool.idle_count


@pytest.mark.parametrize("name", sorted(BAD_HEADS))
async def test_malformed_heads_are_response_errors_naming_the_url(name: str) -> None:
    with anyio.fail_after(10):
        async with peer_server(writes(BAD_HEADS[name])) as server, aiohttp.ClientSession() as s:
            url = f"http://127.0.0.1:{server.port}/where/{name}"
            with pytest.raises(aiohttp.ClientResponseError) as info:
                async with s.get(url) as resp:
                    await resp.read()
            assert info.value.request_info.url == URL(url)
            assert url in str(info.value)
            await settled(s, server)


# -- bodies cut short or badly framed ---------------------------------------------------------

BAD_BODIES = {
    "short-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 60,
    "chunked-cut-mid-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
    "chunked-no-last-chunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"),
    "chunked-bad-size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nqq\r\n",
    "chunked-size-overflow": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 40 + b"\r\nab"
    ),
    "chunked-missing-crlf": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX0\r\n\r\n"
    ),
    "gzip-truncated": (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 30\r\n\r\n"
        + gzip.compress(b"y" * 10_000)[:30]
    ),
    "gzip-garbage": (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\nnot gzip!!!!"
    ),
    "deflate-garbage": (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: 12\r\n\r\nnot zlib!!!!"
    ),
}


async def _read_all(resp: aiohttp.ClientResponse, how: str) -> None:
    if how == "read":
        await resp.read()
    elif how == "text":
        await resp.text()
    elif how == "json":
        await resp.json(content_type=None)
    elif how == "iter_chunked":
        async for _ in resp.content.iter_chunked(4):
            pass
    elif how == "readline":
        while await resp.content.readline():
            pass
    else:
        async for _ in resp.content.iter_any():
            pass


@pytest.mark.parametrize("how", ["read", "text", "json", "iter_chunked", "readline", "iter_any"])
@pytest.mark.parametrize("name", sorted(BAD_BODIES))
async def test_bad_bodies_raise_payload_errors_from_every_reader(name: str, how: str) -> None:
    with anyio.fail_after(10):
        async with peer_server(writes(BAD_BODIES[name])) as server, aiohttp.ClientSession() as s:
            url = f"http://127.0.0.1:{server.port}/{name}"
            async with s.get(url) as resp:
                assert resp.status == 200
                with pytest.raises(aiohttp.ClientPayloadError) as info:
                    await _read_all(resp, how)
            await settled(s, server)
            if not name.startswith(("gzip", "deflate")):
                assert url in str(info.value)
                # a framing error leaves the connection unusable: never pooled. (A
                # well-framed body whose coding is bad may go back, as its framing ended.)
                assert s.connector is not None and s.connector._pool.idle_count == 0


async def test_a_body_delimited_by_close_is_read_whole() -> None:
    """No framing (RFC 9112 6.3, rule 8): the body is everything until the server closes."""
    wire = b"HTTP/1.1 200 OK\r\n\r\n" + b"z" * 100_000
    with anyio.fail_after(10):
        async with peer_server(writes(wire)) as server, aiohttp.ClientSession() as s:
            async with s.get(f"http://127.0.0.1:{server.port}/") as resp:
                assert len(await resp.read()) == 100_000
            await settled(s, server)


async def test_decompression_bomb_through_the_session_is_refused() -> None:
    bomb = gzip.compress(b"\0" * (8 * 2**20), compresslevel=9)
    wire = (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: "
        + str(len(bomb)).encode()
        + b"\r\n\r\n"
        + bomb
    )
    with anyio.fail_after(20):
        async with (
            peer_server(writes(wire, close=False)) as server,
            aiohttp.ClientSession(max_decompressed_size=2**20) as s,
        ):
            async with s.get(f"http://127.0.0.1:{server.port}/") as resp:
                with pytest.raises(aiohttp.ClientPayloadError, match="gzip"):
                    await resp.read()
            # the limit can be raised per request
            async with s.get(f"http://127.0.0.1:{server.port}/", max_decompressed_size=None) as r:
                assert len(await r.read()) == 8 * 2**20
            await settled(s, server)


# -- arbitrary bytes: never a hang, never anything but a ClientError ---------------------------

_VALID = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + gzip.compress(b"hello"),
]


@st.composite
def responses(draw: st.DrawFn) -> bytes:
    """A valid response, then cut, spliced with noise, or with one byte changed."""
    data = bytearray(draw(st.sampled_from(_VALID)))
    how = draw(st.sampled_from(["cut", "insert", "flip", "noise"]))
    if how == "noise":
        return draw(st.binary(max_size=200))
    at = draw(st.integers(0, len(data)))
    if how == "cut":
        return bytes(data[:at])
    if how == "insert":
        return bytes(data[:at]) + draw(st.binary(min_size=1, max_size=20)) + bytes(data[at:])
    if at < len(data):
        data[at] = draw(st.integers(0, 255))
    return bytes(data)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(wire=responses())
async def test_arbitrary_responses_end_cleanly(wire: bytes) -> None:
    with anyio.fail_after(10):
        async with peer_server(writes(wire)) as server, aiohttp.ClientSession() as s:
            url = f"http://127.0.0.1:{server.port}/"
            try:
                async with s.get(url, allow_redirects=False) as resp:
                    body = await resp.read()
                    assert isinstance(body, bytes)
                    framed = resp.content_length
                    if framed is not None and "Content-Encoding" not in resp.headers:
                        assert len(body) == framed  # never silently short
            except aiohttp.ClientError:
                pass
            await settled(s, server)


# -- injection from the caller -----------------------------------------------------------------

INJECTIONS: dict[str, dict[str, Any]] = {
    "method-crlf": {"method": "GET /x HTTP/1.1\r\nHost: evil\r\n\r\nGET"},
    "method-space": {"method": "GET X"},
    "header-value-crlf": {"headers": {"X-A": "v\r\nInjected: 1"}},
    "header-value-lf": {"headers": {"X-A": "v\nInjected: 1"}},
    "header-value-cr": {"headers": {"X-A": "v\rInjected: 1"}},
    "header-value-nul": {"headers": {"X-A": "v\x00"}},
    "header-name-colon": {"headers": {"X-A: b": "v"}},
    "header-name-crlf": {"headers": {"X-A\r\nB": "v"}},
    "header-name-empty": {"headers": {"": "v"}},
    "session-header": {"session": {"headers": {"X-S": "a\r\nb: c"}}},
    "skip-auto-headers": {"headers": {"User-Agent": "ua\r\nX: y"}},
}


@pytest.mark.parametrize("name", sorted(INJECTIONS))
async def test_injection_is_refused_before_anything_is_sent(name: str) -> None:
    case = dict(INJECTIONS[name])
    method = case.pop("method", "GET")
    session_kw = case.pop("session", {})
    with anyio.fail_after(10):
        async with peer_server() as server, aiohttp.ClientSession(**session_kw) as s:
            with pytest.raises(ValueError):
                await s.request(method, f"http://127.0.0.1:{server.port}/", **case)
            assert server.requests == 0


async def test_injection_in_an_encoded_url_is_refused() -> None:
    with anyio.fail_after(10):
        async with peer_server() as server, aiohttp.ClientSession() as s:
            for path in ("/a\r\nX: y", "/a b", "/a\x00"):
                url = URL.build(
                    scheme="http", host="127.0.0.1", port=server.port, path=path, encoded=True
                )
                with pytest.raises(ValueError):
                    await s.get(url)
            # unencoded URLs are parsed the WHATWG way (CR/LF dropped, spaces quoted)
            async with s.get(f"http://127.0.0.1:{server.port}/a b") as resp:
                assert (await resp.read()).startswith(b"GET /a%20b ")
            assert server.requests == 1


async def test_cookie_values_are_quoted_not_injected() -> None:
    seen: list[list[tuple[bytes, bytes]]] = []

    async def record(request: Request, body: bytes, handler: PeerHandler) -> Any:
        seen.append(request.headers)
        return 200, [(b"Content-Length", b"0")], b""

    with anyio.fail_after(10):
        async with peer_server(record) as server, aiohttp.ClientSession() as s:
            url = f"http://127.0.0.1:{server.port}/"
            async with s.get(url, cookies={"c": "a\r\nInjected: 1"}) as resp:
                assert resp.status == 200
    # as aiohttp (http.cookies quoting): the value travels octal-escaped in quotes
    assert (b"Cookie", b'c="a\\015\\012Injected: 1"') in seen[0]
    assert all(b"Injected" not in name for name, _ in seen[0])


async def test_injection_in_proxy_headers_is_refused() -> None:
    # proxy_headers go to the proxy in the CONNECT request (for plain http aiohttp does
    # not send them at all), so an https target through the proxy
    with anyio.fail_after(10):
        async with peer_server() as server, aiohttp.ClientSession() as s:
            with pytest.raises(ValueError):
                await s.get(
                    "https://example.invalid/",
                    proxy=f"http://127.0.0.1:{server.port}",
                    proxy_headers={"X-P": "a\r\nb: c"},
                )
            assert server.requests == 0


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("not a url", aiohttp.InvalidUrlClientError),  # relative: as aiohttp
        ("/path/only", aiohttp.InvalidUrlClientError),
        ("http:///no-host", aiohttp.InvalidUrlClientError),
        ("ftp://example.com/", aiohttp.NonHttpUrlClientError),
        ("mailto:someone@example.com", aiohttp.NonHttpUrlClientError),
    ],
)
async def test_urls_that_cannot_be_requested(url: str, error: type[Exception]) -> None:
    async with aiohttp.ClientSession() as s:
        with pytest.raises(error) as info:
            await s.get(url)
    assert isinstance(info.value, aiohttp.ClientError)  # (NonHttpUrl is no InvalidURL)
    assert str(info.value)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.text(st.characters(codec="latin-1"), min_size=1, max_size=12),
    value=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20),
)
async def test_any_header_is_refused_or_arrives_intact(name: str, value: str) -> None:
    seen: list[list[tuple[bytes, bytes]]] = []

    async def record(request: Request, body: bytes, handler: PeerHandler) -> Any:
        seen.append(request.headers)
        return 200, [(b"Content-Length", b"0")], b""

    with anyio.fail_after(10):
        async with peer_server(record) as server, aiohttp.ClientSession() as s:
            url = f"http://127.0.0.1:{server.port}/"
            try:
                async with s.get(url, headers={name: value}) as resp:
                    assert resp.status == 200
            except ValueError:
                assert server.requests == 0  # refused before anything was sent
                return
    # sent: it is exactly one field with that name and (OWS-trimmed) value
    fields = [v for n, v in seen[0] if n.decode("latin-1").lower() == name.lower()]
    assert fields == [value.strip(" \t").encode("utf-8")]


@pytest.mark.parametrize(
    "kw",
    [
        {"headers": {"Content-Length": "abc"}},
        {"headers": {"Content-Length": "5"}},  # and no body
        {"headers": {"Content-Length": "3"}, "data": b"abcdef"},
        {"headers": {"Content-Length": "1", "Transfer-Encoding": "chunked"}},
        {"headers": {"Transfer-Encoding": "gzip"}},
    ],
    ids=["cl-not-a-number", "cl-without-body", "cl-shorter-than-body", "cl-and-te", "te-gzip"],
)
async def test_framing_headers_that_contradict_the_body_are_value_errors(
    kw: dict[str, Any],
) -> None:
    with anyio.fail_after(10):
        async with peer_server() as server, aiohttp.ClientSession() as s:
            url = f"http://127.0.0.1:{server.port}/"
            with pytest.raises(ValueError, match="Cannot send the request"):
                await s.post(url, **kw)
            assert server.requests == 0  # nothing the server could take as a request
            await settled(s, server)
            assert s.connector is not None and s.connector._pool.idle_count == 0
            async with s.post(url, data=b"fine") as resp:  # the session still works
                assert await resp.read() == b"POST / fine"
