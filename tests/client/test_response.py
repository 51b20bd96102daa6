"""ClientResponse bodies: content decoding, bombs, truncation, release, on every backend."""

from __future__ import annotations

import gzip

import anyio
import pytest

from treadle.client._exceptions import (
    ClientConnectionError,
    ClientPayloadError,
    ClientResponseError,
)
from treadle.client._session import ClientSession
from treadle.message import HAS_BROTLI, HAS_ZSTD, StreamReader, compress
from treadle.protocol import Request

from ._asgi_app import ENCODED_TEXT
from ._peer_server import PeerHandler, peer_server

CODINGS = [
    "gzip",
    "deflate",
    "deflate-raw",
    pytest.param("br", marks=pytest.mark.skipif(not HAS_BROTLI, reason="brotli")),
    pytest.param("zstd", marks=pytest.mark.skipif(not HAS_ZSTD, reason="zstandard")),
]


@pytest.mark.parametrize("coding", CODINGS)
async def test_content_codings_are_decoded(asgi_url: str, coding: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            async with session.get(asgi_url + f"encoded/{coding}") as resp:
                assert resp.headers["Content-Encoding"] in ("gzip", "deflate", "br", "zstd")
                assert await resp.read() == ENCODED_TEXT
            async with session.get(asgi_url + f"encoded/{coding}") as resp:
                pieces = [piece async for piece in resp.content.iter_chunked(100)]
            assert b"".join(pieces) == ENCODED_TEXT


async def test_auto_decompress_off_gives_the_coded_bytes(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession(auto_decompress=False) as session:
            async with session.get(asgi_url + "encoded/gzip") as resp:
                assert gzip.decompress(await resp.read()) == ENCODED_TEXT
            async with session.get(asgi_url + "encoded/gzip", auto_decompress=True) as resp:
                assert await resp.read() == ENCODED_TEXT


async def test_decompression_bomb_is_stopped(asgi_url: str) -> None:
    with anyio.fail_after(20):
        async with ClientSession(max_decompressed_size=2**20) as session:
            async with session.get(asgi_url + "bomb") as resp:
                with pytest.raises(ClientPayloadError, match="gzip"):
                    await resp.read()
            # streaming: memory stays bounded per piece; the total limit still applies
            async with session.get(asgi_url + "bomb") as resp:
                total = 0
                with pytest.raises(ClientPayloadError):
                    async for piece in resp.content.iter_any():
                        assert len(piece) <= 2**16
                        total += len(piece)
                assert total <= 2**20


async def _truncated(request: Request, body: bytes, handler: PeerHandler) -> None:
    assert handler.conn is not None
    path = request.target
    if path == b"/length":
        handler.conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
    elif path == b"/chunked":
        handler.conn.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
    elif path == b"/gzip":
        coded = gzip.compress(b"y" * 10_000)[:-20]
        handler.conn.write(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n" + coded
        )
    handler.conn.close()


@pytest.mark.parametrize("path", ["length", "chunked", "gzip"])
async def test_truncated_body_raises_client_payload_error(path: str) -> None:
    with anyio.fail_after(10):
        async with peer_server(_truncated) as server, ClientSession() as session:
            url = f"http://127.0.0.1:{server.port}/{path}"
            async with session.get(url) as resp:
                with pytest.raises(ClientPayloadError):
                    await resp.read()
            async with session.get(url) as resp:
                with pytest.raises(ClientPayloadError):
                    await resp.text()
            async with session.get(url) as resp:
                with pytest.raises(ClientPayloadError):
                    async for _ in resp.content.iter_chunked(3):
                        pass


async def test_release_before_reading_closes_and_read_after_release_fails(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            resp = await session.get(asgi_url + "stream?n=50&size=10000")
            assert not resp.closed
            resp.release()
            assert resp.closed
            with pytest.raises(ClientConnectionError):
                await resp.read()
            # the session still works (the unread connection was closed, not pooled)
            async with session.get(asgi_url + "status/200") as again:
                assert await again.read() == b"status 200"


async def test_body_can_be_read_twice_and_text_uses_the_cache(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session, session.get(asgi_url + "status/200") as resp:
            assert await resp.read() == b"status 200"
            assert await resp.read() == b"status 200"
            assert await resp.text() == "status 200"
            assert resp.content_length == 10
            assert resp.get_encoding() == "utf-8"


async def test_decoding_stream_reports_the_raw_stream() -> None:
    raw = StreamReader()
    data = compress(b"abc" * 1000, "gzip")
    raw.feed_data(data[:10])
    raw.feed_data(data[10:])
    raw.feed_eof()
    from treadle.client._decoding import DecodingStreamReader

    stream = DecodingStreamReader(raw, "gzip", None)
    assert stream.raw is raw
    assert await stream.readexactly(6) == b"abcabc"
    assert await stream.read() == b"abc" * 998
    assert stream.at_eof()


async def test_reading_content_after_release_or_close_fails(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            for end in ("release", "close"):
                resp = await session.get(asgi_url + "slow-body?delay=5")
                getattr(resp, end)()
                with pytest.raises(ClientConnectionError):
                    await resp.content.read()
            resp = await session.get(asgi_url + "encoded/gzip")
            assert await resp.read() == ENCODED_TEXT
            resp.release()  # after the body was read: the cached body stays readable
            assert await resp.read() == ENCODED_TEXT
            assert await resp.content.read() == b""


async def _odd_heads(request: Request, body: bytes, handler: PeerHandler) -> bytes:
    if request.target == b"/long-header":
        return b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 300 + b"\r\nContent-Length: 2\r\n\r\nok"
    # no charset in the Content-Type, a Latin-1 body, and a Content-Disposition
    body = "caf\u00e9".encode("latin-1")
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
        b'Content-Disposition: attachment; filename="report.txt"\r\n'
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )


async def test_fallback_charset_and_content_disposition() -> None:
    seen: list[bytes] = []

    def resolve(response: object, body: bytes) -> str:
        seen.append(body)
        return "latin-1"

    with anyio.fail_after(10):
        async with peer_server(_odd_heads) as server:
            url = f"http://127.0.0.1:{server.port}/"
            async with ClientSession(fallback_charset_resolver=resolve) as session:
                async with session.get(url) as resp:
                    assert await resp.text() == "caf\u00e9"
                    disposition = resp.content_disposition
                assert disposition is not None
                assert (disposition.type, disposition.filename) == ("attachment", "report.txt")
            assert seen == ["caf\u00e9".encode("latin-1")]
            async with ClientSession() as session, session.get(url) as resp:
                with pytest.raises(UnicodeDecodeError):  # UTF-8 by default, as aiohttp
                    await resp.text()
                assert await resp.text(errors="replace") == "caf\ufffd"


async def test_header_size_limits_apply_to_responses() -> None:
    with anyio.fail_after(10):
        async with peer_server(_odd_heads) as server:
            url = f"http://127.0.0.1:{server.port}/long-header"
            async with ClientSession() as session, session.get(url) as resp:
                assert len(resp.headers["X-Long"]) == 300
            async with ClientSession(max_field_size=100) as session:
                with pytest.raises(ClientResponseError):
                    await session.get(url)
            async with ClientSession() as session:
                with pytest.raises(ClientResponseError):
                    await session.get(url, max_field_size=100)
