"""make_mocked_request: aiohttp's test helper, over the real core instead of mocks."""

from __future__ import annotations

from typing import Any

import pytest

from treadle import web
from treadle.message import StreamReader
from treadle.server._http_helpers import HttpVersion10
from treadle.server._mocked import InMemoryWriter, MockedConnection, make_mocked_request

from ._fakes import parse


def test_defaults() -> None:
    request = make_mocked_request("GET", "/path?x=1", {"X-Custom": "v"})
    assert isinstance(request, web.Request)
    assert request.method == "GET" and request.path == "/path" and request.query["x"] == "1"
    assert request.headers["X-Custom"] == "v"
    assert request.host == "example.com"  # HTTP/1.1 needs a Host: one is supplied
    assert request.match_info == {} and request.app is not None
    assert request.remote == "127.0.0.1" and not request.secure
    assert isinstance(request.writer, InMemoryWriter)
    assert not request.body_exists


def test_options() -> None:
    app: dict[str, Any] = {"db": "conn"}

    class App(dict[str, Any]):
        on_response_prepare = ()

    request = make_mocked_request(
        "post",
        "/",
        {"Host": "api.test"},
        match_info={"id": "7"},
        version=HttpVersion10,
        closing=True,
        app=App(app),
        sslcontext=object(),
        client_max_size=5,
    )
    assert request.method == "POST" and request.version == (1, 0)
    assert request.host == "api.test" and request.match_info["id"] == "7"
    assert request.app["db"] == "conn" and request.config_dict["db"] == "conn"
    assert request.secure and request.scheme == "https"
    assert request.keep_alive is False and request.client_max_size == 5


async def test_payload_bytes_and_stream() -> None:
    request = make_mocked_request("POST", "/", payload=b"body")
    assert await request.read() == b"body"
    stream = StreamReader()
    stream.feed_data(b"streamed")
    stream.feed_eof()
    assert await make_mocked_request("POST", "/", payload=stream).text() == "streamed"


async def test_custom_writer_and_protocol() -> None:
    conn = MockedConnection(peername="/tmp/socket")
    template = make_mocked_request("GET", "/")
    writer = template.writer
    request = make_mocked_request("GET", "/", writer=writer, protocol=conn)
    assert request.writer is writer and request.protocol is conn
    assert request.remote == "/tmp/socket"
    response = web.Response(text="ok")
    await response.prepare(request)
    assert parse(writer).body == b"ok"


def test_a_head_the_core_refuses_is_an_error() -> None:
    with pytest.raises(Exception):  # noqa: B017 -- the core's own error type
        make_mocked_request("GET", "/", {"Bad Name": "x"})


async def test_the_writer_refuses_what_the_core_refuses() -> None:
    request = make_mocked_request("GET", "/")
    response = web.StreamResponse()
    response.content_length = 2
    await response.prepare(request)
    with pytest.raises(Exception, match="longer than its Content-Length"):
        await response.write(b"too long")
