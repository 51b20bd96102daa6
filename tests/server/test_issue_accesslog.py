"""The access log on real requests (issue 4): aiohttp's tokens, checked against
aiohttp's own ``AccessLogger`` formatting the same request and response, on every
backend."""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar

import anyio
import httpx
import pytest

from treadle import web
from treadle.server._accesslog import AccessLogger

from ._serving import raw_connection, read_until_close, serve

FORMAT = '%a %t "%r" %s %b %T %Tf %D %P "%{Referer}i" "%{X-Custom}i" [%{X-Out}o] [%{X-Missing}i]'


def make_app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello", headers={"X-Out": "out-value"})

    async def slow(request: web.Request) -> web.Response:
        await anyio.sleep(0.3)
        return web.Response(body=b"x" * 1234)

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"a" * 100)
        await response.write(b"b" * 50)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/hello", hello)
    app.router.add_post("/slow", slow)
    app.router.add_get("/stream", stream)
    return app


class Both(web.AbstractAccessLogger):
    """Logs each request with treadle's AccessLogger and with aiohttp's, side by side."""

    pairs: ClassVar[list[tuple[str, str]]] = []

    def __init__(self, logger: logging.Logger, log_format: str) -> None:
        super().__init__(logger, log_format)
        from aiohttp.web_log import AccessLogger as AiohttpAccessLogger

        self.mine = _Capture(AccessLogger, log_format)
        self.theirs = _Capture(AiohttpAccessLogger, log_format)

    def log(self, request: Any, response: Any, time: float) -> None:
        self.mine.logger_obj.log(request, response, time)
        self.theirs.logger_obj.log(request, response, time)
        Both.pairs.append((self.mine.take(), self.theirs.take()))

    @property
    def enabled(self) -> bool:
        return True


class _Capture(logging.Handler):
    def __init__(self, cls: Any, log_format: str) -> None:
        super().__init__()
        logger = logging.getLogger(f"test.access.{cls.__module__}")
        logger.setLevel(logging.INFO)
        logger.propagate = False
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.addHandler(self)
        self.lines: list[str] = []
        self.logger_obj = cls(logger, log_format)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def take(self) -> str:
        assert len(self.lines) == 1, self.lines
        return self.lines.pop()


async def test_tokens_match_aiohttps_access_logger(anyio_backend: Any) -> None:
    Both.pairs = []
    server = serve(make_app(), access_log_class=Both, access_log_format=FORMAT)
    async with server as (url, _), httpx.AsyncClient() as client:
        with anyio.fail_after(10):
            await client.get(
                url + "/hello?q=1&r=%20",
                headers={"Referer": "http://ref.example/", "X-Custom": "c v"},
            )
            await client.post(url + "/slow", content=b"body")
            await client.get(url + "/stream")
            await client.get(url + "/missing")
    assert len(Both.pairs) == 4
    for mine, theirs in Both.pairs:
        # %t, %T, %Tf and %D depend on the clock; everything else must be identical.
        assert _timeless(mine) == _timeless(theirs), (mine, theirs)
        assert _t(mine) and _t(theirs)
    hello, slow, stream, missing = (mine for mine, _ in Both.pairs)
    assert re.match(
        r'^127\.0\.0\.1 \[\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /hello\?q=1&r=%20 '
        r'HTTP/1\.1" 200 5 \d+ \d+\.\d{6} \d+ <\d+> "http://ref\.example/" "c v" \[out-value\] \[-\]$',
        hello,
    ), hello
    fields = slow.split(" ")
    assert fields[6:8] == ["200", "1234"]
    seconds, fraction, micros = int(fields[8]), float(fields[9]), int(fields[10])
    assert fraction >= 0.3 and micros >= 300_000 and seconds == round(fraction)
    assert " 200 150 " in stream  # streamed body bytes
    assert '"GET /missing HTTP/1.1" 404 ' in missing


def _t(line: str) -> str:
    match = re.search(r"\[(\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\]", line)
    return match.group(1) if match else ""


def _timeless(line: str) -> str:
    line = re.sub(r"\[\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]", "[T]", line)
    return re.sub(r'(" \d{3} \d+) \d+ \d+\.\d{6} \d+ ', r"\1 T T T ", line)


@pytest.mark.parametrize("disabled", [True, False])
async def test_access_log_none_or_disabled_logs_nothing(
    disabled: bool, caplog: pytest.LogCaptureFixture
) -> None:
    kwargs: dict[str, Any] = {"access_log": None} if disabled else {}
    level = logging.INFO if not disabled else logging.DEBUG
    with caplog.at_level(level, logger="treadle.access"):
        async with serve(make_app(), **kwargs) as (url, _), httpx.AsyncClient() as client:
            with anyio.fail_after(10):
                await client.get(url + "/hello")
    lines = [r for r in caplog.records if r.name == "treadle.access"]
    assert len(lines) == (0 if disabled else 1)


async def test_requests_the_server_refuses_are_logged_as_unknown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """As aiohttp: a malformed request is logged ``"UNKNOWN / HTTP/1.0" 400``, with
    nothing of what the client sent."""
    with caplog.at_level(logging.INFO, logger="treadle.access"):
        async with serve(make_app()) as (url, _):
            for wire in (
                b"GET /\x01secret HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Many: m\r\n" * 200 + b"\r\n",
            ):
                async with raw_connection(url) as stream:
                    await stream.send(wire)
                    await read_until_close(stream)
    lines = [r.getMessage() for r in caplog.records if r.name == "treadle.access"]
    assert len(lines) == 2
    assert re.search(r'^127\.0\.0\.1 \[.+\] "UNKNOWN / HTTP/1\.0" 400 \d+ "-" "-"$', lines[0])
    assert '"UNKNOWN / HTTP/1.0" 431 ' in lines[1]
    assert "secret" not in "".join(lines)


async def test_a_failing_access_logger_does_not_break_error_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(web.AbstractAccessLogger):
        def log(self, request: Any, response: Any, time: float) -> None:
            raise RuntimeError("logger bug")

    async with serve(make_app(), access_log_class=Broken) as (url, _):
        async with raw_connection(url) as stream:
            await stream.send(b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n")
            data = await read_until_close(stream)
        async with httpx.AsyncClient() as client:
            with anyio.fail_after(10):
                still = await client.get(url + "/hello")
    assert data.startswith(b"HTTP/1.1 400 ")
    assert still.text == "hello"
