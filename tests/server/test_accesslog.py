"""The access log: aiohttp's tokens, the default format, and the runtime calling it."""

from __future__ import annotations

import logging
import os
import re
from typing import Any, ClassVar

import anyio
import pytest

from treadle.server import Response
from treadle.server._accesslog import AbstractAccessLogger, AccessLogger
from treadle.server._app import Application
from treadle.server._mocked import make_mocked_request


class _Response:
    status = 201
    body_length = 42
    headers: ClassVar[dict[str, str]] = {"X-Out": "out-value"}


def test_every_token() -> None:
    logger = logging.getLogger("test.access.tokens")
    fmt = '%a %t %P "%r" %s %b %T %Tf %D "%{Referer}i" "%{X-Out}o" %{HOME}e %O'
    access = AccessLogger(logger, fmt)
    request = make_mocked_request("GET", "/path?q=1", headers={"Referer": "http://ref.example/"})
    records: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger.addHandler(Catch())
    logger.setLevel(logging.INFO)
    try:
        access.log(request, _Response(), 1.5)
    finally:
        logger.handlers.clear()
    (record,) = records
    line = record.getMessage()
    pattern = (
        r"\S+ \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] <\d+> "
        r'"GET /path\?q=1 HTTP/1\.1" 201 42 2 1\.500000 1500000 '
        r'"http://ref\.example/" "out-value" \S+ 42'
    )
    assert re.fullmatch(pattern, line), line
    assert f"<{os.getpid()}>" in line
    assert record.first_request_line == "GET /path?q=1 HTTP/1.1"  # type: ignore[attr-defined]
    assert record.request_header == {"Referer": "http://ref.example/"}  # type: ignore[attr-defined]
    assert record.response_status == 201  # type: ignore[attr-defined]


def test_default_format_is_aiohttps() -> None:
    assert AccessLogger.LOG_FORMAT == '%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"'


def test_disabled_logger_is_not_enabled() -> None:
    logger = logging.getLogger("test.access.disabled")
    logger.setLevel(logging.WARNING)
    assert not AccessLogger(logger, AccessLogger.LOG_FORMAT).enabled


async def test_the_server_logs_each_request(
    treadle_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = Application()

    async def hello(request: Any) -> Response:
        return Response(text="hello")

    app.router.add_get("/hello", hello)
    with caplog.at_level(logging.INFO, logger="treadle.access"), anyio.fail_after(10):
        client = await treadle_client(app)  # over TCP: the log shows the peer's address
        await client.get("/hello", headers={"User-Agent": "agent/1"})
        await client.get("/missing")
        await client.close()  # the server has logged every request once it is closed
    lines = [r.getMessage() for r in caplog.records if r.name == "treadle.access"]
    assert len(lines) == 2
    assert re.search(r'^127\.0\.0\.1 \[.+\] "GET /hello HTTP/1\.1" 200 5 "-" "agent/1"$', lines[0])
    assert '"GET /missing HTTP/1.1" 404 ' in lines[1]


async def test_custom_access_logger_class(treadle_client: Any) -> None:
    seen: list[tuple[str, int]] = []

    class Mine(AbstractAccessLogger):
        def log(self, request: Any, response: Any, time: float) -> None:
            seen.append((request.path, response.status))

        @property
        def enabled(self) -> bool:
            return True

    app = Application()

    async def hello(request: Any) -> Response:
        return Response(text="x")

    app.router.add_get("/", hello)
    with anyio.fail_after(10):
        client = await treadle_client(app, server_kwargs={"access_log_class": Mine})
        await client.get("/")
        await client.close()
    assert seen == [("/", 200)]
