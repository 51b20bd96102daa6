"""treadle.test_utils: TestServer/RawTestServer/TestClient over TCP and in memory."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import pytest

from treadle import WSMsgType, web
from treadle.client import ClientConnectorError
from treadle.test_utils import (
    AioHTTPTestCase,
    RawTestServer,
    TestClient,
    TestServer,
    make_mocked_request,
    unused_port,
)

TRANSPORTS = ["tcp", "memory"]


def make_app(client_max_size: int = 1024**2) -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"hello {request.match_info.get('name', 'world')}")

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.Response(body=body, headers={"X-Method": request.method})

    async def json_sum(request: web.Request) -> web.Response:
        data = await request.json()
        return web.json_response({"sum": sum(data["numbers"])})

    async def set_cookie(request: web.Request) -> web.Response:
        resp = web.Response(text="set")
        resp.set_cookie("token", request.query.get("value", "abc"))
        return resp

    async def get_cookie(request: web.Request) -> web.Response:
        return web.Response(text=request.cookies.get("token", "none"))

    async def remote(request: web.Request) -> web.Response:
        return web.Response(text=str(request.remote))

    async def query(request: web.Request) -> web.Response:
        return web.json_response(dict(request.query))

    app = web.Application(client_max_size=client_max_size)
    app.router.add_get("/", hello)
    app.router.add_get("/hello/{name}", hello)
    app.router.add_route("*", "/echo", echo)
    app.router.add_post("/sum", json_sum)
    app.router.add_get("/set", set_cookie)
    app.router.add_get("/cookie", get_cookie)
    app.router.add_get("/query", query)
    app.router.add_get("/remote", remote)
    return app


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_client_requests_every_method(transport: str) -> None:
    with anyio.fail_after(20):
        async with TestClient(TestServer(make_app(), transport=transport)) as client:
            resp = await client.get("/")
            assert resp.status == 200
            assert await resp.text() == "hello world"
            async with client.get("/hello/treadle") as resp:
                assert await resp.text() == "hello treadle"
            for method in ("post", "put", "patch", "delete", "options"):
                resp = await getattr(client, method)("/echo", data=b"payload")
                assert resp.status == 200
                assert resp.headers["X-Method"] == method.upper()
                assert await resp.read() == b"payload"
            resp = await client.head("/echo")
            assert resp.status == 200
            assert await resp.read() == b""
            resp = await client.request("POST", "/sum", json={"numbers": [1, 2, 3]})
            assert await resp.json() == {"sum": 6}
            resp = await client.get("/query", params={"a": "1", "b": "x y"})
            assert await resp.json() == {"a": "1", "b": "x y"}
            resp = await client.get("/missing")
            assert resp.status == 404
            resp.release()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_cookies_are_kept_for_the_ip_host(transport: str) -> None:
    async with TestClient(TestServer(make_app(), transport=transport)) as client:
        assert (await (await client.get("/cookie")).text()) == "none"
        await client.get("/set", params={"value": "v1"})
        assert (await (await client.get("/cookie")).text()) == "v1"
        assert [c.value for c in client.session.cookie_jar] == ["v1"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_raw_server(transport: str) -> None:
    async def handler(request: web.BaseRequest) -> web.Response:
        return web.Response(text=f"{request.method} {request.path_qs}")

    server = RawTestServer(handler, transport=transport)
    async with TestClient(server) as client:
        resp = await client.get("/any/path?x=1")
        assert await resp.text() == "GET /any/path?x=1"
        assert client.app is None
        assert client.server is server
        assert server.handler is not None and server.handler.requests_count == 1
    assert server.closed


async def test_make_url_and_attributes() -> None:
    app = make_app()
    server = TestServer(app)
    with pytest.raises(RuntimeError):
        server.make_url("/")
    async with TestClient(server) as client:
        assert client.app is app
        assert client.host == "127.0.0.1"
        assert isinstance(client.port, int) and client.port > 0
        assert client.scheme == "http"
        url = client.make_url("/a/b?c=d")
        assert str(url) == f"http://127.0.0.1:{client.port}/a/b?c=d"
        with pytest.raises(ValueError, match="relative"):
            client.make_url("http://example.com/")
        assert server.started and not server.closed
    assert server.closed and client.closed
    # closing twice is harmless
    await client.close()
    await server.close()


async def test_tcp_server_listens_on_a_real_port() -> None:
    async with TestServer(make_app()) as server:
        port = server.port
        assert port is not None
        # a plain socket reaches it: the port is real
        with anyio.fail_after(10):
            stream = await anyio.connect_tcp("127.0.0.1", port)
            async with stream:
                await stream.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    try:
                        data += await stream.receive()
                    except anyio.EndOfStream:
                        break
        assert data.startswith(b"HTTP/1.1 200 OK\r\n")
        assert data.endswith(b"hello world")


async def test_memory_server_has_no_socket() -> None:
    async with TestClient(TestServer(make_app(), transport="memory")) as client:
        resp = await client.get("/remote")
        assert await resp.text() == "memory"


async def test_memory_keeps_connections_alive() -> None:
    """Keep-alive and pooling behave as over TCP: one connection serves many requests."""
    async with TestClient(TestServer(make_app(), transport="memory")) as client:
        for i in range(50):
            resp = await client.get(f"/hello/{i}")
            assert await resp.text() == f"hello {i}"
        assert len(client.server.handler.connections) == 1


async def test_memory_client_after_server_close_fails_cleanly() -> None:
    server = TestServer(make_app(), transport="memory")
    client = TestClient(server)
    await client.start_server()
    assert (await client.get("/")).status == 200
    await server.close()
    with pytest.raises(ClientConnectorError):
        await client.session.get("http://127.0.0.1:1/")
    await client.close()


async def test_memory_rejects_ssl() -> None:
    server = TestServer(make_app(), transport="memory")
    with pytest.raises(ValueError, match="memory"):
        await server.start_server(ssl=object())
    with pytest.raises(ValueError, match="transport"):
        TestServer(make_app(), transport="udp")  # type: ignore[arg-type]


async def test_server_kwargs_reach_the_server() -> None:
    async def big(request: web.Request) -> web.Response:
        return web.Response(text=str(len(await request.read())))

    app = web.Application(client_max_size=10)
    app.router.add_post("/", big)
    async with TestClient(TestServer(app, transport="memory", max_line_size=100)) as client:
        resp = await client.post("/", data=b"x" * 11)
        assert resp.status == 413
        resp = await client.get("/" + "a" * 200)
        assert resp.status in (400, 414)


async def test_startup_and_cleanup_signals_run() -> None:
    events: list[str] = []

    async def on_startup(app: web.Application) -> None:
        events.append("startup")

    async def on_cleanup(app: web.Application) -> None:
        events.append("cleanup")

    app = make_app()
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    async with TestClient(TestServer(app, transport="memory")) as client:
        assert events == ["startup"]
        await client.get("/")
    assert events == ["startup", "cleanup"]


def test_type_checks() -> None:
    with pytest.raises(TypeError):
        TestServer(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        TestClient(object())  # type: ignore[arg-type]


def test_unused_port_is_bindable() -> None:
    port = unused_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_make_mocked_request_is_exported() -> None:
    req: Any = make_mocked_request("GET", "/a?b=c", headers={"X-A": "1"})
    assert req.path == "/a"
    assert req.query["b"] == "c"
    assert req.headers["X-A"] == "1"


def ws_app() -> web.Application:
    async def echo_ws(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str("echo: " + msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data[::-1])
        return ws

    app = web.Application()
    app.router.add_get("/ws", echo_ws)
    return app


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_ws_connect(transport: str) -> None:
    with anyio.fail_after(20):
        async with TestClient(TestServer(ws_app(), transport=transport)) as client:
            async with client.ws_connect("/ws") as ws:
                await ws.send_str("hi")
                assert await ws.receive_str() == "echo: hi"
                await ws.send_bytes(b"abc")
                assert await ws.receive_bytes() == b"cba"
            assert ws.closed
            # a WebSocket left open is closed by the client
            ws2 = await client.ws_connect("/ws")
            await ws2.send_str("x")
            assert await ws2.receive_str() == "echo: x"
        assert ws2.closed


async def test_https_test_server() -> None:
    import ssl

    import trustme

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    with anyio.fail_after(20):
        server = TestServer(make_app(), ssl=server_ctx)
        async with TestClient(server) as client:
            assert client.scheme == "https"
            assert str(client.make_url("/")).startswith("https://127.0.0.1:")
            resp = await client.get("/hello/tls", ssl=client_ctx)
            assert await resp.text() == "hello tls"


async def _answers(transport: str) -> list[tuple[Any, ...]]:
    """What the client sees for a mixed set of requests, Date aside."""

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/hello/redirected")

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        for i in range(5):
            await resp.write(b"part %d;" % i)
        await resp.write_eof()
        return resp

    app = make_app(client_max_size=1000)  # a small body limit for the 413 below
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/stream", stream)

    async def chunks() -> Any:
        for i in range(3):
            yield b"chunk%d" % i

    out: list[tuple[Any, ...]] = []
    async with TestClient(TestServer(app, transport=transport, access_log=None)) as client:
        calls: list[tuple[str, str, dict[str, Any]]] = [
            ("GET", "/", {}),
            ("HEAD", "/", {}),
            ("GET", "/missing", {}),
            ("PUT", "/sum", {}),
            ("POST", "/echo", {"data": b"x" * 2000}),
            ("POST", "/echo", {"data": chunks()}),
            ("GET", "/redirect", {}),
            ("GET", "/redirect", {"allow_redirects": False}),
            ("GET", "/stream", {}),
            ("GET", "/set", {"params": {"value": "same"}}),
            ("GET", "/cookie", {}),
            ("GET", "/query", {"params": [("a", "1"), ("a", "2")]}),
        ]
        for method, path, kwargs in calls:
            async with client.request(method, path, **kwargs) as resp:
                body = await resp.read()
                headers = sorted(
                    (k, v) for k, v in resp.headers.items() if k not in ("Date", "Set-Cookie")
                )
                out.append((method, path, resp.status, headers, body, len(resp.history)))
    return out


async def test_memory_and_tcp_give_the_same_answers() -> None:
    """The in-memory transport behaves as TCP does, response for response."""
    with anyio.fail_after(30):
        assert await _answers("memory") == await _answers("tcp")


class TestAioHTTPTestCase(AioHTTPTestCase):
    """aiohttp's unittest base class (asyncio only, as unittest is)."""

    async def get_application(self) -> web.Application:
        return make_app()

    async def test_client_reaches_the_app(self) -> None:
        resp = await self.client.get("/hello/unit")
        assert await resp.text() == "hello unit"
        assert self.client.app is self.app
        assert self.server.started and self.loop is not None

    async def test_each_test_gets_a_fresh_app(self) -> None:
        assert (await self.client.get("/cookie")).status == 200
        assert len(self.client.session.cookie_jar) == 0


class InMemoryCase(AioHTTPTestCase):
    async def get_application(self) -> web.Application:
        return make_app()

    async def get_server(self, app: web.Application) -> TestServer:
        return TestServer(app, transport="memory")

    async def test_in_memory(self) -> None:
        assert await (await self.client.get("/remote")).text() == "memory"


def test_aiohttp_test_case_base_is_not_collected() -> None:
    assert AioHTTPTestCase.__test__ is False
    assert TestAioHTTPTestCase.__test__ is True
