"""The client against treadle's own server (``from treadle import web``), in-process on
every backend: what a porting user does first, end to end through both halves.

The server is started the way users start it (``AppRunner`` + ``TCPSite``) inside the
test's event loop; the client code is aiohttp code with ``import treadle as aiohttp``.
"""

from __future__ import annotations

import contextlib
import io
import ssl
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import trustme
from yarl import URL

import treadle as aiohttp
from treadle import web

from .proxy_fixture import ProxyServer


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "path": request.path,
            "query": [[k, v] for k, v in request.query.items()],
            "headers": [[k, v] for k, v in request.headers.items()],
            "body": body.decode("latin-1"),
            "version": f"{request.version.major}.{request.version.minor}",
        }
    )


async def form(request: web.Request) -> web.Response:
    data = await request.post()
    fields: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, web.FileField):
            fields[name] = {"filename": value.filename, "size": len(value.file.read())}
        else:
            fields[name] = value
    return web.json_response({"type": request.content_type, "fields": fields})


async def redirect(request: web.Request) -> web.Response:
    code = int(request.match_info["code"])
    classes: dict[int, type[web.HTTPRedirection]] = {
        301: web.HTTPMovedPermanently,
        302: web.HTTPFound,
        303: web.HTTPSeeOther,
        307: web.HTTPTemporaryRedirect,
        308: web.HTTPPermanentRedirect,
    }
    raise classes[code]("/echo")


async def away(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.query["to"])


async def chain(request: web.Request) -> web.Response:
    n = int(request.match_info["n"])
    raise web.HTTPFound(f"/chain/{n - 1}" if n > 1 else "/echo")


async def set_cookie(request: web.Request) -> web.Response:
    response = web.Response(text="set")
    for name, value in request.query.items():
        response.set_cookie(name, value)
    return response


async def lines(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    await response.prepare(request)
    for i in range(200):
        await response.write(f"line {i}\n".encode())
    await response.write_eof()
    return response


async def compressed(request: web.Request) -> web.Response:
    response = web.Response(text="treadle " * 2000)
    response.enable_compression()
    return response


async def status(request: web.Request) -> web.Response:
    code = int(request.match_info["code"])
    return web.Response(status=code, text=None if code in (204, 304) else f"status {code}")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_post("/form", form)
    app.router.add_route("*", "/redirect/{code}", redirect)
    app.router.add_get("/chain/{n}", chain)
    app.router.add_get("/away", away)
    app.router.add_get("/set-cookie", set_cookie)
    app.router.add_get("/lines", lines)
    app.router.add_get("/compressed", compressed)
    app.router.add_get("/status/{code}", status)
    return app


@contextlib.asynccontextmanager
async def treadle_site(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """The app served by AppRunner/TCPSite on a free port; its base URL (ending in /)."""
    runner = web.AppRunner(make_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    try:
        yield site.name + "/"
    finally:
        with anyio.CancelScope(shield=True):
            await runner.cleanup()


def counting_trace() -> tuple[aiohttp.TraceConfig, dict[str, int]]:
    counts = {"create": 0, "reuse": 0}
    config = aiohttp.TraceConfig()

    async def created(session: Any, ctx: Any, params: Any) -> None:
        counts["create"] += 1

    async def reused(session: Any, ctx: Any, params: Any) -> None:
        counts["reuse"] += 1

    config.on_connection_create_end.append(created)
    config.on_connection_reuseconn.append(reused)
    return config, counts


async def test_get_with_params_headers_and_response_attributes() -> None:
    with anyio.fail_after(20):
        async with (
            treadle_site() as base,
            aiohttp.ClientSession(base, headers={"X-Session": "s"}) as session,
        ):
            async with session.get(
                "echo", params=[("a", "1"), ("a", "2"), ("b", "é")], headers={"X-Req": "r"}
            ) as resp:
                data = await resp.json()
                assert resp.status == 200 and resp.reason == "OK" and resp.ok
                assert resp.version == aiohttp.HttpVersion11
                assert resp.content_type == "application/json"
                assert resp.charset == "utf-8"
                assert resp.content_length == len(await resp.read())
                assert any(name.lower() == b"content-type" for name, _ in resp.raw_headers)
                assert resp.url == resp.real_url == URL(base + "echo?a=1&a=2&b=é")
                assert resp.request_info.method == "GET"
                assert resp.request_info.headers["X-Req"] == "r"
            assert data["query"] == [["a", "1"], ["a", "2"], ["b", "é"]]
            headers = {k.lower(): v for k, v in data["headers"]}
            assert headers["x-session"] == "s" and headers["x-req"] == "r"
            assert "gzip" in headers["accept-encoding"]
            assert headers["user-agent"].startswith("Python/")


async def test_every_kind_of_body(tmp_path: Path) -> None:
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"f" * 70_000)

    async def produce() -> AsyncIterator[bytes]:
        for i in range(5):
            yield bytes([65 + i]) * 1000

    with anyio.fail_after(30):
        async with treadle_site() as base, aiohttp.ClientSession(base) as session:

            async def echoed(**kw: Any) -> dict[str, Any]:
                async with session.post("echo", **kw) as resp:
                    assert resp.status == 200
                    data: dict[str, Any] = await resp.json()
                    data["headers"] = {k.lower(): v for k, v in data["headers"]}
                    return data

            data = await echoed(data=b"raw bytes")
            assert data["body"] == "raw bytes"
            assert data["headers"]["content-length"] == "9"
            data = await echoed(data="text é")
            assert data["body"] == "text é".encode().decode("latin-1")
            assert data["headers"]["content-type"] == "text/plain; charset=utf-8"
            data = await echoed(json={"k": [1, 2]})
            assert data["body"] == '{"k": [1, 2]}'
            assert data["headers"]["content-type"] == "application/json"
            data = await echoed(data=produce())
            assert data["body"] == "A" * 1000 + "B" * 1000 + "C" * 1000 + "D" * 1000 + "E" * 1000
            assert data["headers"]["transfer-encoding"] == "chunked"
            data = await echoed(data=b"forced", chunked=True)
            assert data["body"] == "forced"
            assert data["headers"]["transfer-encoding"] == "chunked"
            assert "content-length" not in data["headers"]
            data = await echoed(data=io.BytesIO(b"from a file object"))
            assert data["body"] == "from a file object"
            with upload.open("rb") as f:
                data = await echoed(data=f)
            assert data["body"] == "f" * 70_000
            # compress: the body goes out deflate-coded; treadle's server decodes it
            data = await echoed(data=b"z" * 5000, compress="deflate")
            assert data["headers"]["content-encoding"] == "deflate"
            assert data["body"] == "z" * 5000
            data = await echoed(data=b"expected", expect100=True)
            assert data["headers"]["expect"] == "100-continue"
            assert data["body"] == "expected"

            async with session.post("form", data={"a": "1", "b": "two words"}) as resp:
                assert await resp.json() == {
                    "type": "application/x-www-form-urlencoded",
                    "fields": {"a": "1", "b": "two words"},
                }
            async with session.post("form", data=[("x", "1"), ("y", "2")]) as resp:
                assert (await resp.json())["fields"] == {"x": "1", "y": "2"}
            formdata = aiohttp.FormData()
            formdata.add_field("title", "report")
            formdata.add_field("doc", io.BytesIO(b"d" * 3000), filename="doc.txt")
            with upload.open("rb") as f:
                formdata.add_field("big", f, filename="upload.bin")
                async with session.post("form", data=formdata) as resp:
                    result = await resp.json()
            assert result["type"] == "multipart/form-data"
            assert result["fields"] == {
                "title": "report",
                "doc": {"filename": "doc.txt", "size": 3000},
                "big": {"filename": "upload.bin", "size": 70_000},
            }
            writer = aiohttp.MultipartWriter("form-data")
            part = writer.append("value")
            part.set_content_disposition("form-data", name="field")
            async with session.post("form", data=writer) as resp:
                assert (await resp.json())["fields"] == {"field": "value"}


@pytest.mark.parametrize(
    ("code", "method", "after", "body"),
    [
        (301, "POST", "GET", ""),
        (302, "POST", "GET", ""),
        (303, "POST", "GET", ""),
        (303, "PUT", "GET", ""),
        (307, "POST", "POST", "payload"),
        (308, "PUT", "PUT", "payload"),
        (301, "GET", "GET", "payload"),  # aiohttp rewrites only POST on 301/302
    ],
)
async def test_redirect_statuses(code: int, method: str, after: str, body: str) -> None:
    with anyio.fail_after(20):
        async with treadle_site() as base, aiohttp.ClientSession(base) as session:
            async with session.request(method, f"redirect/{code}", data=b"payload") as resp:
                data = await resp.json()
                assert resp.url.path == "/echo"
                assert [r.status for r in resp.history] == [code]
                assert resp.history[0].url.path == f"/redirect/{code}"
            assert (data["method"], data["body"]) == (after, body)


async def test_redirect_limits_and_opt_out() -> None:
    with anyio.fail_after(20):
        async with treadle_site() as base, aiohttp.ClientSession(base) as session:
            async with session.get("chain/3") as resp:
                assert [r.url.path for r in resp.history] == ["/chain/3", "/chain/2", "/chain/1"]
            async with session.get("chain/3", max_redirects=4) as resp:
                assert resp.url.path == "/echo"
            # as aiohttp: the limit counts the redirect responses, reaching it raises
            with pytest.raises(aiohttp.TooManyRedirects) as info:
                await session.get("chain/3", max_redirects=3)
            assert len(info.value.history) == 3
            assert isinstance(info.value, aiohttp.ClientResponseError)
            async with session.get("chain/3", allow_redirects=False) as resp:
                assert resp.status == 302 and resp.headers["Location"] == "/chain/2"
                assert resp.history == ()


async def test_cookies_from_the_server_go_back_to_it() -> None:
    with anyio.fail_after(20):
        jar = aiohttp.CookieJar(unsafe=True)  # the server is an IP address
        async with (
            treadle_site() as base,
            aiohttp.ClientSession(base, cookie_jar=jar, cookies={"pre": "0"}) as session,
        ):
            async with session.get("set-cookie", params={"a": "1", "b": "2"}) as resp:
                assert {k: m.value for k, m in resp.cookies.items()} == {"a": "1", "b": "2"}
            async with session.get("echo", cookies={"extra": "x"}) as resp:
                headers = dict((await resp.json())["headers"])
            assert sorted(headers["Cookie"].split("; ")) == ["a=1", "b=2", "extra=x", "pre=0"]
            assert len(jar.filter_cookies(URL(base))) == 3
        async with (
            treadle_site() as base,
            aiohttp.ClientSession(base, cookie_jar=aiohttp.DummyCookieJar()) as session,
        ):
            async with session.get("set-cookie", params={"a": "1"}) as resp:
                assert resp.cookies["a"].value == "1"
            async with session.get("echo") as resp:
                assert "Cookie" not in dict((await resp.json())["headers"])


async def test_twenty_sequential_requests_use_one_connection() -> None:
    config, counts = counting_trace()
    with anyio.fail_after(30):
        async with (
            treadle_site() as base,
            aiohttp.ClientSession(base, trace_configs=[config]) as session,
        ):
            for i in range(20):
                async with session.get("echo", params={"i": str(i)}) as resp:
                    assert (await resp.json())["query"] == [["i", str(i)]]
            connector = session.connector
            assert connector is not None
    assert counts == {"create": 1, "reuse": 19}


async def test_content_stream_api() -> None:
    expected = [f"line {i}\n".encode() for i in range(200)]
    with anyio.fail_after(20):
        async with treadle_site() as base, aiohttp.ClientSession(base) as session:
            async with session.get("lines") as resp:
                assert resp.headers["Transfer-Encoding"] == "chunked"
                assert await resp.content.readline() == expected[0]
                assert await resp.content.readexactly(len(expected[1])) == expected[1]
                assert await resp.content.read(len(expected[2])) == expected[2]
                rest = [line async for line in resp.content]
            assert rest == expected[3:]
            async with session.get("lines") as resp:
                pieces = [chunk async for chunk in resp.content.iter_chunked(7)]
            assert all(0 < len(p) <= 7 for p in pieces)  # at most n, as aiohttp's read(n)
            assert b"".join(pieces) == b"".join(expected)
            async with session.get("lines") as resp:
                got = b"".join([chunk async for chunk in resp.content.iter_any()])
            assert got == b"".join(expected)
            async with session.get("lines") as resp:
                chunks = [pair async for pair in resp.content.iter_chunks()]
            assert b"".join(data for data, _ in chunks) == b"".join(expected)
            async with session.get("lines") as resp:
                collected = b""
                while True:
                    data, _end = await resp.content.readchunk()
                    if not data:
                        break
                    collected += data
            assert collected == b"".join(expected)
            async with session.get("lines") as resp:
                assert await resp.text() == "".join(line.decode() for line in expected)


async def test_compressed_responses_are_decoded() -> None:
    with anyio.fail_after(20):
        async with treadle_site() as base:
            async with aiohttp.ClientSession(base) as session, session.get("compressed") as resp:
                assert resp.headers["Content-Encoding"] in {"gzip", "deflate", "br", "zstd"}
                assert await resp.text() == "treadle " * 2000
            async with (
                aiohttp.ClientSession(base, auto_decompress=False) as session,
                session.get("compressed", headers={"Accept-Encoding": "deflate"}) as resp,
            ):
                assert resp.headers["Content-Encoding"] == "deflate"
                coded = await resp.read()
            assert zlib.decompress(coded) == b"treadle " * 2000


async def test_raise_for_status_session_and_per_request() -> None:
    seen: list[int] = []

    async def check(resp: aiohttp.ClientResponse) -> None:
        seen.append(resp.status)
        if resp.status == 418:
            raise RuntimeError("teapot")

    with anyio.fail_after(20):
        async with treadle_site() as base:
            async with aiohttp.ClientSession(base, raise_for_status=True) as session:
                with pytest.raises(aiohttp.ClientResponseError) as info:
                    await session.get("status/404")
                assert info.value.status == 404
                assert "/status/404" in str(info.value)
                async with session.get("status/404", raise_for_status=False) as resp:
                    assert resp.status == 404
            async with aiohttp.ClientSession(base, raise_for_status=check) as session:
                async with session.get("status/201") as resp:
                    assert resp.status == 201
                with pytest.raises(RuntimeError, match="teapot"):
                    await session.get("status/418")
                with pytest.raises(aiohttp.ClientResponseError):
                    await session.get("status/500", raise_for_status=True)
                connector = session.connector
                assert connector is not None
            assert seen == [201, 418]


async def test_head_no_content_options_and_delete() -> None:
    with anyio.fail_after(20):
        async with treadle_site() as base, aiohttp.ClientSession(base) as session:
            async with session.head("echo") as resp:
                assert resp.status == 200
                assert await resp.read() == b""
            async with session.get("status/204") as resp:
                assert resp.status == 204 and await resp.read() == b""
            for method in ("options", "delete", "put", "patch"):
                async with getattr(session, method)("echo") as resp:
                    assert (await resp.json())["method"] == method.upper()


async def test_http10_version() -> None:
    with anyio.fail_after(20):
        async with (
            treadle_site() as base,
            aiohttp.ClientSession(base, version=aiohttp.HttpVersion10) as session,
            session.get("echo") as resp,
        ):
            assert (await resp.json())["version"] == "1.0"


async def test_module_level_request_and_shared_connector() -> None:
    with anyio.fail_after(20):
        async with treadle_site() as base:
            async with aiohttp.request("POST", base + "echo", json={"one": "shot"}) as resp:
                assert (await resp.json())["body"] == '{"one": "shot"}'
            connector = aiohttp.TCPConnector()
            try:
                for _ in range(2):
                    async with (
                        aiohttp.ClientSession(
                            connector=connector, connector_owner=False
                        ) as session,
                        session.get(base + "echo") as resp,
                    ):
                        assert resp.status == 200
                    assert session.closed
                    assert not connector.closed  # not the session's to close
            finally:
                await connector.close()
            assert connector.closed


@pytest.fixture(scope="module")
def tls_pair() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for 127.0.0.1 and localhost."""
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


async def test_https_to_treadles_server(tls_pair: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_ctx, client_ctx = tls_pair
    config, counts = counting_trace()
    with anyio.fail_after(20):
        async with (
            treadle_site(server_ctx) as base,
            aiohttp.ClientSession(base, trace_configs=[config]) as session,
        ):
            assert base.startswith("https://")
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await session.get("echo")  # the test CA is not trusted by default
            for _ in range(3):
                async with session.post("echo", data=b"secret", ssl=client_ctx) as resp:
                    assert (await resp.json())["body"] == "secret"
            async with session.get("echo", ssl=False) as resp:
                assert resp.status == 200
    assert counts["reuse"] >= 2  # the verified connection was pooled and reused


async def test_through_a_real_proxy_to_treadles_server(
    http_proxy: ProxyServer, tls_pair: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server_ctx, client_ctx = tls_pair
    with anyio.fail_after(30):
        async with (
            treadle_site() as plain,
            treadle_site(server_ctx) as secure,
            aiohttp.ClientSession(proxy=http_proxy.url) as session,
        ):
            # http: an absolute-form request to the proxy
            async with session.get(plain + "echo", params={"via": "proxy"}) as resp:
                data = await resp.json()
            assert data["query"] == [["via", "proxy"]]
            # https: a CONNECT tunnel, TLS with treadle's server inside it
            for _ in range(2):
                async with session.post(
                    secure + "echo", json={"tunnel": True}, ssl=client_ctx
                ) as resp:
                    assert (await resp.json())["body"] == '{"tunnel": true}'


async def test_many_concurrent_requests_share_a_small_pool() -> None:
    config, counts = counting_trace()
    statuses: list[int] = []

    async def worker(session: aiohttp.ClientSession, n: int) -> None:
        for i in range(n):
            async with session.post("echo", data=str(i)) as resp:
                assert (await resp.json())["body"] == str(i)
                statuses.append(resp.status)

    connector = aiohttp.TCPConnector(limit=10)
    with anyio.fail_after(60):
        async with (
            treadle_site() as base,
            aiohttp.ClientSession(base, connector=connector, trace_configs=[config]) as session,
        ):
            async with anyio.create_task_group() as group:
                for _ in range(50):
                    group.start_soon(worker, session, 4)
            assert connector._pool.in_use == 0
    assert statuses == [200] * 200
    assert counts["create"] <= 10 and counts["create"] + counts["reuse"] == 200


async def test_jar_cookies_and_auth_stay_with_their_origin_across_redirects() -> None:
    with anyio.fail_after(20):
        jar = aiohttp.CookieJar(unsafe=True)
        async with treadle_site() as base, aiohttp.ClientSession(cookie_jar=jar) as session:
            other = URL(base).with_host("localhost")  # same server, another origin
            async with session.get(base + "set-cookie", params={"sid": "1"}) as resp:
                assert resp.status == 200
            hops = {
                "same": base + "echo",
                "other": str(other / "echo"),
            }
            seen = {}
            for name, target in hops.items():
                async with session.get(
                    base + "away", params={"to": target}, auth=aiohttp.BasicAuth("u", "p")
                ) as resp:
                    assert len(resp.history) == 1
                    seen[name] = dict((await resp.json())["headers"])
            assert seen["same"]["Cookie"] == "sid=1"
            assert seen["same"]["Authorization"].startswith("Basic ")
            assert "Cookie" not in seen["other"]
            assert "Authorization" not in seen["other"]
            assert seen["other"]["Host"] == f"localhost:{other.port}"
