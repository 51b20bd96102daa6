"""``Expect: 100-continue`` with a per-route expect handler that *returns* a response
(instead of raising), over raw sockets on every backend (issue 4)."""

from __future__ import annotations

from typing import Any

import anyio

from treadle import web

from ._serving import raw_connection, read_response, read_until_close, serve

HEAD = b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n"


async def upload_after_100(stream: anyio.abc.ByteStream, head: bytes) -> bytes:
    """Send ``head`` alone, require ``100 Continue``, then send the body ``abc``: the
    final response."""
    await stream.send(head)
    with anyio.fail_after(5):
        interim = await stream.receive()
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    await stream.send(b"abc")
    return await read_response(stream, bytearray())


def make_app() -> web.Application:
    async def check(request: web.Request) -> Any:
        if request.headers.get("X-Ok") != "1":
            return web.Response(status=401, text="who are you")
        return None

    async def upload(request: web.Request) -> web.Response:
        return web.Response(text=f"got {(await request.read()).decode()}")

    app = web.Application()
    app.router.add_post("/up", upload, expect_handler=check)
    return app


async def test_a_returned_response_refuses_without_100_continue() -> None:
    async with serve(make_app()) as (url, _), raw_connection(url) as stream:
        await stream.send(HEAD + b"\r\n")
        refused = await read_response(stream, bytearray())
    assert refused.startswith(b"HTTP/1.1 401 ")
    assert b"100 Continue" not in refused
    assert refused.endswith(b"who are you")


async def test_accepted_upload_gets_100_continue_then_the_answer() -> None:
    async with serve(make_app()) as (url, _), raw_connection(url) as stream:
        answer = await upload_after_100(stream, HEAD + b"X-Ok: 1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"got abc")


async def test_a_body_sent_anyway_after_a_refusal_is_skipped_and_the_next_request_served() -> None:
    """RFC 9110 10.1.1: a client may send the body without waiting; the refused body
    must not be parsed as the next request."""
    async with serve(make_app()) as (url, _), raw_connection(url) as stream:
        await stream.send(
            HEAD + b"\r\nabc"
            b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nX-Ok: 1\r\n"
            b"Connection: close\r\n\r\nxyz"
        )
        data = await read_until_close(stream)
    answers = data.split(b"HTTP/1.1 ")[1:]
    assert [a[:3] for a in answers] == [b"401", b"200"]
    assert answers[1].endswith(b"got xyz")


async def test_an_aiohttp_style_expect_handler_writing_100_by_hand_works() -> None:
    """aiohttp's own default expect handler, and user code copied from it, write the
    interim response as raw bytes through ``request.writer``."""

    async def check(request: web.Request) -> None:
        if request.headers.get("AUTH") != "mysecret":
            raise web.HTTPForbidden()
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    async def upload(request: web.Request) -> web.Response:
        return web.Response(text=f"got {(await request.read()).decode()}")

    app = web.Application()
    app.router.add_post("/up", upload, expect_handler=check)
    async with serve(app) as (url, _), raw_connection(url) as stream:
        answer = await upload_after_100(stream, HEAD + b"AUTH: mysecret\r\n\r\n")
        # Sent at once this time: no second 100, and no error.
        await stream.send(HEAD + b"AUTH: mysecret\r\n\r\nxyz")
        second = await read_response(stream, bytearray())
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"got abc")
    assert second.startswith(b"HTTP/1.1 200 ") and second.endswith(b"got xyz")
