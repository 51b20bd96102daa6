"""The connection runtime over real loopback sockets: keep-alive, HTTP/1.0, pipelining,
bad requests, timeouts, body errors, handler errors, disconnects (all backends)."""

from __future__ import annotations

import logging
import socket
import struct
from typing import Any

import anyio
import httpx
import pytest

from treadle.backends import get_backend
from treadle.server import Response
from treadle.server._app import Application
from treadle.server._exceptions import HTTPNotFound

from ._serving import answer_to, raw_connection, read_response, read_until_close, serve


async def hello(request: Any) -> Response:
    return Response(text=f"hello {request.method} {request.path}")


async def test_get_with_httpx_keeps_the_connection_alive() -> None:
    async with serve(hello) as (url, server), httpx.AsyncClient() as client:
        with anyio.fail_after(10):
            first = await client.get(url + "/a")
            second = await client.get(url + "/b")
        assert first.status_code == 200
        assert first.text == "hello GET /a"
        assert second.text == "hello GET /b"
        assert first.headers["content-length"] == str(len("hello GET /a"))
        assert len(server.connections) == 1
        assert server.requests_count == 2


async def test_aiohttp_client_on_asyncio(anyio_backend: Any) -> None:
    if anyio_backend[0] != "asyncio":
        pytest.skip("aiohttp's client runs on asyncio only")
    import aiohttp

    async with serve(hello) as (url, _), aiohttp.ClientSession() as session:
        with anyio.fail_after(10):
            for path in ("/x", "/y"):
                async with session.post(url + path, data=b"ignored") as resp:
                    assert resp.status == 200
                    assert await resp.text() == f"hello POST {path}"


async def test_http10_closes_unless_keep_alive_is_asked() -> None:
    async with serve(hello) as (url, _):
        async with raw_connection(url) as stream:
            await stream.send(b"GET /old HTTP/1.0\r\n\r\n")
            data = await read_until_close(stream)
        assert data.startswith(b"HTTP/1.1 200 OK\r\n")
        assert data.endswith(b"hello GET /old")
        async with raw_connection(url) as stream:
            buffer = bytearray()
            for path in (b"/k1", b"/k2"):
                await stream.send(b"GET %s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" % path)
                response = await read_response(stream, buffer)
                assert b"\r\nConnection: keep-alive\r\n" in response
                assert response.endswith(b"hello GET " + path)


async def test_pipelined_requests_are_answered_in_order() -> None:
    backend = get_backend()
    running: list[str] = []

    async def slow_first(request: Any) -> Response:
        running.append(request.path)
        # The first request is the slowest: order must still be kept.
        await backend.sleep({"/1": 0.2, "/2": 0.05}.get(request.path, 0))
        return Response(text=request.path)

    async with serve(slow_first) as (url, _), raw_connection(url) as stream:
        await stream.send(b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in (1, 2, 3)))
        buffer = bytearray()
        bodies = [(await read_response(stream, buffer)).rsplit(b"\r\n", 1)[1] for _ in "abc"]
    assert bodies == [b"/1", b"/2", b"/3"]
    assert running == ["/1", "/2", "/3"]


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /\x01secret HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
        ),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Many: m\r\n" * 200 + b"\r\n", 431),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ],
)
async def test_bad_requests_get_a_fixed_error_and_close(request_bytes: bytes, status: int) -> None:
    called: list[Any] = []

    async def handler(request: Any) -> Response:
        called.append(request)
        return Response(text="no")

    data = await answer_to(handler, request_bytes)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status)
    assert b"\r\nConnection: close" in head
    assert body.startswith(b"%d " % status)
    # Nothing of the request comes back (no reflection of what the client sent).
    for marker in (b"secret", b"aaaa", b"bbbb", b"X-Many", b"gzip"):
        assert marker not in data
    assert called == []


async def test_bad_request_after_a_good_one_is_answered_after_it() -> None:
    data = await answer_to(hello, b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\nBAD\x00 / HTTP/1.1\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"hello GET /ok" in data
    # The core closes after the answer to the good request or answers 400: never more.
    assert data.count(b"HTTP/1.1 ") <= 2
    assert b"BAD" not in data


async def test_slowloris_is_cut_off_by_the_header_timeout() -> None:
    backend = get_backend()
    async with serve(hello, header_read_timeout=0.3) as (url, _), raw_connection(url) as stream:
        start = backend.current_time()
        await stream.send(b"GET / HTTP/1.1\r\n")
        closed = False
        with anyio.fail_after(5):
            for i in range(40):  # one header line every 50 ms: never a whole head
                try:
                    await stream.send(b"X-Drip-%d: y\r\n" % i)
                except (anyio.BrokenResourceError, OSError):
                    closed = True
                    break
                with anyio.move_on_after(0.05):
                    try:
                        if await stream.receive() == b"":
                            closed = True
                            break
                    except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                        closed = True
                        break
        elapsed = backend.current_time() - start
    assert closed
    assert elapsed < 1.5  # the timeout (0.3 s) fired, not the 40-line loop's end


async def test_connection_without_any_request_is_closed_by_the_header_timeout() -> None:
    async with serve(hello, header_read_timeout=0.2) as (url, server):
        async with raw_connection(url) as stream:
            assert await read_until_close(stream, limit=3) == b""
        assert server.requests_count == 0


async def test_idle_keep_alive_connection_closes_after_keepalive_timeout() -> None:
    async with serve(hello, keepalive_timeout=0.2) as (url, _), raw_connection(url) as stream:
        await stream.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = await read_until_close(stream, limit=3)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close" not in data  # it was kept alive, then timed out idle


async def test_expect_100_continue_sends_the_interim_response_when_the_body_is_read() -> None:
    async def upload(request: Any) -> Response:
        body = await request.read()
        return Response(text=f"got {len(body)}")

    async with serve(upload) as (url, _), raw_connection(url) as stream:
        await stream.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        with anyio.fail_after(5):
            interim = await stream.receive()
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        await stream.send(b"12345")
        response = await read_response(stream, bytearray())
    assert response.startswith(b"HTTP/1.1 200 OK")
    assert response.endswith(b"got 5")


async def test_handler_that_does_not_read_sends_no_100_and_closes() -> None:
    async with serve(hello) as (url, _), raw_connection(url) as stream:
        await stream.send(
            b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        data = await read_until_close(stream)
    assert data.startswith(b"HTTP/1.1 200 OK")  # no 100 Continue first
    assert b"100 Continue" not in data
    assert data.endswith(b"hello POST /x")


async def test_body_cut_short_by_eof_raises_in_the_handler() -> None:
    outcome: list[BaseException] = []
    done = get_backend().create_event()

    async def upload(request: Any) -> Response:
        try:
            await request.read()
        except Exception as exc:
            outcome.append(exc)
            raise
        finally:
            done.set()
        return Response(text="read it all?")

    async with serve(upload) as (url, _), raw_connection(url) as stream:
        await stream.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n123")
        await stream.send_eof()
        data = await read_until_close(stream)
        with anyio.fail_after(5):
            await done.wait()
    assert len(outcome) == 1
    assert not data.startswith(b"HTTP/1.1 200")  # never a "complete" short body
    assert data.startswith(b"HTTP/1.1 400")


async def test_body_cut_short_by_a_reset_raises_connection_reset() -> None:
    outcome: list[BaseException] = []
    done = get_backend().create_event()

    async def upload(request: Any) -> Response:
        try:
            await request.read()
        except Exception as exc:
            outcome.append(exc)
        finally:
            done.set()
        return Response(text="x")

    async with serve(upload) as (url, _):
        async with raw_connection(url) as stream:
            await stream.send(
                b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
            )
            await anyio.sleep(0.05)
            # SO_LINGER 0: closing resets the connection instead of a clean FIN.
            sock = stream.extra(anyio.abc.SocketAttribute.raw_socket)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with anyio.fail_after(5):
            await done.wait()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ConnectionResetError)


async def test_malformed_chunk_raises_bad_request_in_the_handler() -> None:
    outcome: list[BaseException] = []

    async def upload(request: Any) -> Response:
        try:
            await request.read()
        except Exception as exc:
            outcome.append(exc)
            raise
        return Response(text="x")

    async with serve(upload) as (url, _), raw_connection(url) as stream:
        await stream.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nZZ\r\n"
        )
        data = await read_until_close(stream)
    assert data.startswith(b"HTTP/1.1 400 ")
    assert len(outcome) == 1


async def test_handler_error_is_logged_and_answered_500(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: Any) -> Response:
        raise ValueError("secret detail")

    with caplog.at_level(logging.ERROR, logger="treadle.server"):
        async with serve(broken) as (url, _), httpx.AsyncClient() as client:
            with anyio.fail_after(10):
                response = await client.get(url + "/")
    assert response.status_code == 500
    assert "secret detail" not in response.text
    assert response.headers["connection"] == "close"
    records = [r for r in caplog.records if r.name == "treadle.server" and r.exc_info]
    assert len(records) == 1
    assert "secret detail" in str(records[0].exc_info[1])  # type: ignore[index]


async def test_missing_return_is_a_500() -> None:
    async def forgot(request: Any) -> None:
        return None

    async with serve(forgot) as (url, _), httpx.AsyncClient() as client:
        with anyio.fail_after(10):
            response = await client.get(url + "/")
    assert response.status_code == 500


async def test_raw_server_handler_may_raise_or_return_http_exceptions() -> None:
    async def handler(request: Any) -> Any:
        if request.path == "/raise":
            raise HTTPNotFound(text="nope")
        return HTTPNotFound(text="returned")

    async with serve(handler) as (url, _), httpx.AsyncClient() as client:
        with anyio.fail_after(10):
            raised = await client.get(url + "/raise")
            returned = await client.get(url + "/ret")
    assert (raised.status_code, raised.text) == (404, "nope")
    assert (returned.status_code, returned.text) == (404, "returned")


async def _disconnect_during_slow_handler(**kwargs: Any) -> list[str]:
    backend = get_backend()
    started = backend.create_event()
    finished = backend.create_event()
    outcome: list[str] = []

    async def slow(request: Any) -> Response:
        started.set()
        try:
            await backend.sleep(0.3)
            outcome.append("completed")
        except BaseException:
            outcome.append("cancelled")
            raise
        finally:
            finished.set()
        return Response(text="late")

    async with serve(slow, **kwargs) as (url, _):
        async with raw_connection(url) as stream:
            await stream.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            with anyio.fail_after(5):
                await started.wait()
        with anyio.fail_after(5):
            await finished.wait()
    return outcome


async def test_client_disconnect_does_not_cancel_the_handler_by_default() -> None:
    assert await _disconnect_during_slow_handler() == ["completed"]


async def test_handler_cancellation_cancels_on_disconnect() -> None:
    assert await _disconnect_during_slow_handler(handler_cancellation=True) == ["cancelled"]


async def test_streaming_response_and_chunked_upload() -> None:
    from treadle.server import StreamResponse

    async def echo(request: Any) -> StreamResponse:
        response = StreamResponse()
        await response.prepare(request)
        async for chunk in request.content.iter_chunked(1000):
            await response.write(chunk.upper())
        await response.write_eof()
        return response

    async def body() -> Any:
        for _ in range(50):
            yield b"abc" * 1000

    async with serve(echo) as (url, _), httpx.AsyncClient() as client:
        with anyio.fail_after(10):
            response = await client.post(url + "/", content=body())
    assert response.status_code == 200
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.content == b"ABC" * 50_000


async def _upload(body: bytes, encoding: str, **kwargs: Any) -> tuple[int, bytes]:
    async def handler(request: Any) -> Response:
        return Response(body=await request.read())

    async with serve(handler, **kwargs) as (url, _), httpx.AsyncClient() as client:
        with anyio.fail_after(10):
            response = await client.post(
                url + "/", content=body, headers={"Content-Encoding": encoding}
            )
    return response.status_code, response.content


async def test_compressed_request_bodies_are_decoded() -> None:
    import gzip
    import zlib

    payload = b"treadle " * 1000
    assert await _upload(gzip.compress(payload), "gzip") == (200, payload)
    assert await _upload(zlib.compress(payload), "deflate") == (200, payload)
    # auto_decompress=False and codings nobody decodes leave the body as sent.
    raw = gzip.compress(payload)
    assert await _upload(raw, "gzip", auto_decompress=False) == (200, raw)
    assert await _upload(b"opaque", "x-custom") == (200, b"opaque")


async def test_corrupt_compressed_body_is_a_400() -> None:
    status, _ = await _upload(b"\x1f\x8b this is not gzip at all", "gzip")
    assert status == 400


async def test_decompression_bomb_is_refused() -> None:
    import gzip

    bomb = gzip.compress(b"\x00" * (2**25 + 1024), compresslevel=1)
    status, _ = await _upload(bomb, "gzip")
    assert status == 413


async def test_debug_mode_shows_the_traceback_and_logger_is_used(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: Any) -> Response:
        raise RuntimeError("visible in debug")

    logger = logging.getLogger("test.handler.custom")
    with caplog.at_level(logging.ERROR, logger="test.handler.custom"):
        async with serve(broken, debug=True, logger=logger) as (url, _), httpx.AsyncClient() as c:
            with anyio.fail_after(10):
                response = await c.get(url + "/")
    assert response.status_code == 500
    assert "RuntimeError: visible in debug" in response.text
    assert int(response.headers["content-length"]) == len(response.content)
    assert any(r.name == "test.handler.custom" for r in caplog.records)


async def test_head_and_no_content_responses_keep_the_connection_usable() -> None:
    async def handler(request: Any) -> Response:
        if request.path == "/empty":
            return Response(status=204)
        return Response(text="body for GET")

    async with serve(handler) as (url, server), httpx.AsyncClient() as client:
        with anyio.fail_after(10):
            head = await client.head(url + "/")
            empty = await client.get(url + "/empty")
            get = await client.get(url + "/")
        assert len(server.connections) == 1  # one keep-alive connection served all three
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len("body for GET"))
    assert empty.status_code == 204
    assert get.text == "body for GET"


async def test_unread_body_is_drained_then_the_connection_closes() -> None:
    backend = get_backend()

    async with serve(hello, lingering_time=0.3) as (url, server), raw_connection(url) as stream:
        await stream.send(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        await stream.send(b"x" * 1000)
        # The whole answer, then EOF (the server half-closed), while it still reads.
        data = await read_until_close(stream)
        assert data.endswith(b"hello POST /up")
        await stream.send(b"y" * 1000)  # dropped, no reset
        start = backend.current_time()
        with anyio.fail_after(5):
            while server.connections:
                await backend.sleep(0.02)
        assert backend.current_time() - start < 2.0


async def test_error_reaches_a_client_that_sent_more_than_was_read() -> None:
    async with serve(hello) as (url, _), raw_connection(url) as stream:
        # 256 KiB of header lines: refused at 64 KiB, while the rest is still coming.
        await stream.send(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Fill: " + b"f" * 8000 + b"\r\n")
        for _ in range(32):
            await stream.send(b"X-More: " + b"m" * 8000 + b"\r\n")
        data = await read_until_close(stream)
    assert data.startswith(b"HTTP/1.1 431 ")


async def test_streaming_to_http10_is_delimited_by_close() -> None:
    from treadle.server import StreamResponse

    async def stream(request: Any) -> StreamResponse:
        response = StreamResponse()
        await response.prepare(request)
        for part in (b"one ", b"two ", b"three"):
            await response.write(part)
        await response.write_eof()
        return response

    async with serve(stream) as (url, _), raw_connection(url) as conn:
        await conn.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        data = await read_until_close(conn)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in head
    assert b"Content-Length" not in head
    assert body == b"one two three"


async def test_handler_args_reach_the_server() -> None:
    app = Application(handler_args={"keepalive_timeout": 0.2})

    async def ok(request: Any) -> Response:
        return Response(text="ok")

    app.router.add_get("/", ok)
    async with serve(app) as (url, server), raw_connection(url) as conn:
        assert server.keepalive_timeout == 0.2
        await conn.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = await read_until_close(conn, limit=3)  # closed by the short keep-alive
    assert data.endswith(b"ok")


async def test_pipelined_requests_then_eof_are_all_answered() -> None:
    async with serve(hello) as (url, _), raw_connection(url) as conn:
        await conn.send(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
        await conn.send_eof()
        data = await read_until_close(conn)
    first, second = data.split(b"HTTP/1.1 200 OK")[1:]
    assert first.endswith(b"hello GET /1")
    assert b"Connection: close" not in first  # only the last answer says it
    assert second.endswith(b"hello GET /2")


async def test_head_with_a_malformed_body_gets_a_bodiless_400() -> None:
    async with serve(hello) as (url, _), raw_connection(url) as conn:
        await conn.send(b"HEAD / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        data = await read_until_close(conn)
    assert data.startswith(b"HTTP/1.1 400 ")
    assert data.endswith(b"\r\n\r\n")  # a HEAD answer has no body
