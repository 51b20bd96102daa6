"""ClientSession against a real server (uvicorn in a subprocess), on every backend."""

from __future__ import annotations

import io
import json
import warnings
from typing import Any

import anyio
import pytest
from yarl import URL

from treadle.client import CookieJar
from treadle.client._auth import BasicAuth
from treadle.client._connector import TCPConnector
from treadle.client._exceptions import (
    ClientConnectorError,
    ClientResponseError,
    ContentTypeError,
    InvalidUrlClientError,
    NonHttpUrlClientError,
)
from treadle.client._response import ClientResponse
from treadle.client._session import ClientSession, request
from treadle.message import FormData


async def post_echo(base: str, **kwargs: Any) -> Any:
    with anyio.fail_after(10):
        async with ClientSession() as session, session.post(base + "echo", **kwargs) as resp:
            return await resp.json()


def header(data: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in data["headers"] if k == name.lower()]


async def test_get_json_and_defaults(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            async with session.get(asgi_url + "echo", params={"a": "1 2"}) as resp:
                assert resp.status == 200
                assert resp.ok
                assert resp.reason == "OK"
                assert resp.version == (1, 1)
                assert resp.content_type == "application/json"
                data = await resp.json()
            assert data["method"] == "GET"
            assert data["query"] == "a=1+2"
            assert header(data, "accept") == ["*/*"]
            assert "gzip" in header(data, "accept-encoding")[0]
            assert header(data, "user-agent")[0].startswith("Python/")
            assert header(data, "host") == [URL(asgi_url).host_port_subcomponent]
        assert session.closed


async def test_connection_is_reused(asgi_url: str) -> None:
    with anyio.fail_after(20):
        async with ClientSession() as session:
            peers = set()
            for _ in range(5):
                async with session.get(asgi_url + "status/200") as resp:
                    assert await resp.text() == "status 200"
                    peers.add(resp.connection)
            # the body was read: the connection went back to the pool at its end
            connector = session.connector
            assert isinstance(connector, TCPConnector)
            assert len(connector._connections) == 1


async def test_await_without_context_manager(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            resp = await session.get(asgi_url + "status/201")
            assert resp.status == 201
            assert await resp.read() == b"status 201"
            assert resp.closed  # read to the end: released
            resp.release()
            await resp.release()  # aiohttp code awaits it


async def test_base_url_and_session_headers(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession(
            asgi_url, headers={"X-Session": "s", "X-Both": "s"}, skip_auto_headers=["User-Agent"]
        ) as session:
            async with session.get("echo", headers={"X-Both": "r"}) as resp:
                data = await resp.json()
            assert data["path"] == "/echo"
            assert header(data, "x-session") == ["s"]
            assert header(data, "x-both") == ["r"]
            assert header(data, "user-agent") == []


@pytest.mark.parametrize(
    ("kwargs", "body", "ctype"),
    [
        ({"data": b"raw"}, "raw", "application/octet-stream"),
        ({"data": "t\u00e9xt"}, "t\u00c3\u00a9xt", "text/plain; charset=utf-8"),
        ({"data": {"k": "v", "n": "1"}}, "k=v&n=1", "application/x-www-form-urlencoded"),
        ({"json": {"a": [1, 2]}}, '{"a": [1, 2]}', "application/json"),
    ],
)
async def test_post_bodies(asgi_url: str, kwargs: dict[str, Any], body: str, ctype: str) -> None:
    data = await post_echo(asgi_url, **kwargs)
    assert data["body"] == body
    assert header(data, "content-type") == [ctype]
    assert header(data, "content-length") == [str(len(body.encode("latin-1")))]


async def test_put_patch_delete_options_head(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            for verb in ("put", "patch", "delete", "options"):
                async with getattr(session, verb)(asgi_url + "echo") as resp:
                    assert (await resp.json())["method"] == verb.upper()
            async with session.head(asgi_url + "echo") as resp:
                assert resp.status == 200
                assert await resp.read() == b""
            async with session.request("post", asgi_url + "echo", data=b"x") as resp:
                assert (await resp.json())["method"] == "POST"


async def test_streaming_upload_from_async_generator(asgi_url: str) -> None:
    async def produce():  # type: ignore[no-untyped-def]
        for i in range(5):
            await anyio.sleep(0)
            yield f"part{i};".encode()

    data = await post_echo(asgi_url, data=produce())
    assert data["body"] == "part0;part1;part2;part3;part4;"
    assert header(data, "transfer-encoding") == ["chunked"]


async def test_multipart_upload(asgi_url: str) -> None:
    form = FormData()
    form.add_field("title", "hello")
    form.add_field("file", io.BytesIO(b"file-content"), filename="a.txt")
    data = await post_echo(asgi_url, data=form)
    assert header(data, "content-type")[0].startswith("multipart/form-data; boundary=")
    assert 'name="title"' in data["body"]
    assert "file-content" in data["body"]
    assert 'filename="a.txt"' in data["body"]


async def test_compressed_upload(asgi_url: str) -> None:
    import zlib

    data = await post_echo(asgi_url, data=b"a" * 1000, compress="deflate")
    assert header(data, "content-encoding") == ["deflate"]
    assert zlib.decompress(data["body"].encode("latin-1")) == b"a" * 1000


async def test_expect100(asgi_url: str) -> None:
    data = await post_echo(asgi_url, data=b"payload", expect100=True)
    assert header(data, "expect") == ["100-continue"]
    assert data["body"] == "payload"


async def test_no_content_and_streaming_download(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            async with session.get(asgi_url + "no-content") as resp:
                assert resp.status == 204
                assert await resp.read() == b""
            async with session.get(asgi_url + "stream?n=20&size=1000") as resp:
                pieces = [chunk async for chunk in resp.content.iter_chunked(512)]
            assert sum(map(len, pieces)) == 20_000
            assert all(len(p) <= 512 for p in pieces)


async def test_text_charset_and_json_content_type_check(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            async with session.get(asgi_url + "text?charset=latin-1") as resp:
                assert resp.charset == "latin-1"
                assert await resp.text() == "h\u00e9llo"
            async with session.get(asgi_url + "json-wrong-type") as resp:
                with pytest.raises(ContentTypeError):
                    await resp.json()
                assert await resp.json(content_type=None) == {"a": 1}


async def test_raise_for_status(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            async with session.get(asgi_url + "status/404") as resp:
                assert not resp.ok
                with pytest.raises(ClientResponseError) as info:
                    resp.raise_for_status()
            assert info.value.status == 404
            assert info.value.request_info.url == URL(asgi_url + "status/404")
            with pytest.raises(ClientResponseError):
                await session.get(asgi_url + "status/500", raise_for_status=True)

        seen: list[int] = []

        async def check(resp: ClientResponse) -> None:
            seen.append(resp.status)

        async with ClientSession(raise_for_status=True) as session:
            with pytest.raises(ClientResponseError) as info:
                async with session.get(asgi_url + "status/418"):
                    pass
            assert info.value.status == 418
            async with session.get(asgi_url + "status/418", raise_for_status=check) as resp:
                assert resp.status == 418
        assert seen == [418]


async def test_cookies_round_trip(asgi_url: str) -> None:
    with anyio.fail_after(10):
        # unsafe: cookies from an IP address host are refused by default (as in aiohttp)
        jar = CookieJar(unsafe=True)
        async with ClientSession(cookies={"pre": "set"}, cookie_jar=jar) as session:
            async with session.get(asgi_url + "set-cookie?a=1&b=2") as resp:
                assert resp.cookies["a"].value == "1"
            async with session.get(asgi_url + "echo", cookies={"extra": "x"}) as resp:
                data = await resp.json()
            cookies = sorted(header(data, "cookie")[0].split("; "))
            assert cookies == ["a=1", "b=2", "extra=x", "pre=set"]
            assert {m.key for m in session.cookie_jar} == {"a", "b", "pre"}


async def test_auth(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession(auth=BasicAuth("user", "pw")) as session:
            async with session.get(asgi_url + "echo") as resp:
                data = await resp.json()
            assert header(data, "authorization") == ["Basic dXNlcjpwdw=="]
            with pytest.raises(ValueError, match="credentials"):
                url = URL(asgi_url).with_user("a").with_password("b") / "echo"
                await session.get(url, auth=BasicAuth("x", "y"))


async def test_links(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session, session.get(asgi_url + "links") as resp:
            links = resp.links
    assert links["preconnect"]["url"] == URL("https://one.example.com")
    assert links["next"]["url"] == URL(asgi_url).join(URL("/page/2"))


async def test_module_level_request(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with request("GET", asgi_url + "echo", params={"q": "1"}) as resp:
            assert (await resp.json())["query"] == "q=1"


async def test_header_injection_refused_before_sending(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            with pytest.raises(ValueError):
                await session.get(asgi_url + "echo", headers={"X": "a\r\nInjected: yes"})
            with pytest.raises(ValueError):
                await session.request("GET / HTTP/1.1\r\n", asgi_url)
            assert session.connector is None or not session.connector._connections


async def test_bad_urls_and_closed_session() -> None:
    session = ClientSession()
    with pytest.raises(NonHttpUrlClientError):
        await session.get("ftp://example.com/")
    with pytest.raises(InvalidUrlClientError):
        await session.get("http:///nohost")
    with pytest.raises(ValueError, match="data and json"):
        await session.post("http://127.0.0.1:1/", data=b"x", json={})
    await session.close()
    with pytest.raises(RuntimeError, match="closed"):
        await session.get("http://127.0.0.1:1/")


async def test_connection_refused() -> None:
    with socket_closed_port() as port, anyio.fail_after(10):
        async with ClientSession() as session:
            with pytest.raises(ClientConnectorError):
                await session.get(f"http://127.0.0.1:{port}/")


async def test_unclosed_session_warns(asgi_url: str) -> None:
    session = ClientSession()
    async with session.get(asgi_url + "status/200") as resp:
        await resp.read()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        session.__del__()
    assert any(issubclass(w.category, ResourceWarning) for w in caught)
    await session.close()


class socket_closed_port:
    """A loopback port with nothing listening."""

    def __enter__(self) -> int:
        import socket

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        sock.close()
        return port

    def __exit__(self, *exc: object) -> None:
        pass


def test_json_serialize_is_used() -> None:
    seen: list[Any] = []

    def dumps(value: Any) -> str:
        seen.append(value)
        return json.dumps(value)

    session = ClientSession(json_serialize=dumps)
    assert session.json_serialize is dumps


async def test_auth_rules_like_aiohttp(asgi_url: str) -> None:
    other = asgi_url.replace("127.0.0.1", "localhost")
    with anyio.fail_after(10):
        async with ClientSession(asgi_url, auth=BasicAuth("s", "p")) as session:
            # URL credentials win over the session's default auth
            creds = URL(asgi_url).with_user("u").with_password("v") / "echo"
            async with session.get(creds) as resp:
                assert header(await resp.json(), "authorization") == ["Basic dTp2"]
            # the default auth is not sent to another origin than base_url's
            async with session.get(other + "echo") as resp:
                assert header(await resp.json(), "authorization") == []
            with pytest.raises(ValueError, match="AUTHORIZATION"):
                await session.get("echo", headers={"Authorization": "Bearer x"})


async def test_http10_requests_ask_for_keep_alive(asgi_url: str) -> None:
    from treadle.client._request import HttpVersion10

    session = ClientSession(version=HttpVersion10)
    with anyio.fail_after(10):
        async with session, session.get(asgi_url + "echo") as resp:
            data = await resp.json()
    assert header(data, "connection") == ["keep-alive"]
    assert resp.version == (1, 1)  # uvicorn answers with its own version


async def test_file_uploads_read_in_a_worker_thread(asgi_url: str, tmp_path: Any) -> None:
    import threading

    path = tmp_path / "upload.bin"
    path.write_bytes(b"0123456789" * 10_000)
    readers: set[int] = set()

    class Recording(io.BufferedReader):
        def read(self, size: int | None = -1) -> bytes:
            readers.add(threading.get_ident())
            return super().read(size)

    with anyio.fail_after(10):
        async with ClientSession() as session:
            with Recording(io.FileIO(path)) as f:
                async with session.post(asgi_url + "echo", data=f) as resp:
                    data = await resp.json()
            assert len(data["body"]) == 100_000
            assert header(data, "content-length") == ["100000"]
            form = FormData()
            form.add_field("file", Recording(io.FileIO(path)), filename="u.bin")
            async with session.post(asgi_url + "echo", data=form) as resp:
                assert "0123456789" in (await resp.json())["body"]
    assert readers and threading.get_ident() not in readers


async def test_expect100_refused_body_is_not_sent(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            # the app answers without reading the body: uvicorn sends no 100 Continue
            url = asgi_url + "status/417"
            async with session.post(url, data=b"x" * 100_000, expect100=True) as resp:
                assert resp.status == 417
                assert await resp.read() == b"status 417"
            async with session.get(asgi_url + "status/200") as resp:  # still usable
                assert resp.status == 200
            connector = session.connector
            assert connector is not None
            assert connector._pool.in_use == 0
