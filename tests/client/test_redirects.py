"""Redirects through ClientSession (RFC 9110 15.4) against uvicorn, on every backend."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import anyio
import pytest
from yarl import URL

from treadle.client._auth import BasicAuth
from treadle.client._exceptions import NonHttpUrlRedirectClientError, TooManyRedirects
from treadle.client._session import ClientSession


def header(data: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in data["headers"] if k == name.lower()]


def redirect_to(base: str, target: str, status: int = 302) -> str:
    return f"{base}redirect-to?status={status}&url={quote(target, safe='')}"


async def test_chain_is_followed_with_history(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session, session.get(asgi_url + "redirect/3") as resp:
            assert resp.status == 200
            assert resp.url == URL(asgi_url + "echo")
            assert [r.status for r in resp.history] == [302, 302, 302]
            assert [str(r.url) for r in resp.history] == [
                asgi_url + "redirect/3",
                asgi_url + "redirect/2",
                asgi_url + "redirect/1",
            ]
            assert (await resp.json())["path"] == "/echo"


async def test_allow_redirects_false_and_too_many(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            async with session.get(asgi_url + "redirect/2", allow_redirects=False) as resp:
                assert resp.status == 302
                assert resp.headers["Location"] == "/redirect/1"
                assert resp.history == ()
            with pytest.raises(TooManyRedirects) as info:
                await session.get(asgi_url + "redirect/5", max_redirects=3)
            assert len(info.value.history) == 3
            with pytest.raises(TooManyRedirects):  # as aiohttp: reaching the limit fails
                await session.get(asgi_url + "redirect/5", max_redirects=5)
            async with session.get(asgi_url + "redirect/5", max_redirects=6) as resp:
                assert resp.status == 200
                assert len(resp.history) == 5


@pytest.mark.parametrize(
    ("status", "method", "expected_method", "body_kept"),
    [
        (301, "POST", "GET", False),
        (302, "POST", "GET", False),
        (303, "POST", "GET", False),
        (303, "PUT", "GET", False),
        (307, "POST", "POST", True),
        (308, "PUT", "PUT", True),
        (302, "PUT", "PUT", True),
    ],
)
async def test_method_and_body_rules(
    asgi_url: str, status: int, method: str, expected_method: str, body_kept: bool
) -> None:
    url = redirect_to(asgi_url, "/echo", status)
    with anyio.fail_after(10):
        async with (
            ClientSession() as session,
            session.request(method, url, data=b"payload") as resp,
        ):
            data = await resp.json()
    assert data["method"] == expected_method
    assert data["body"] == ("payload" if body_kept else "")
    assert bool(header(data, "content-type")) == body_kept


async def test_head_stays_head_on_303(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            url = redirect_to(asgi_url, "/echo", 303)
            async with session.head(url, allow_redirects=True) as resp:
                assert resp.status == 200
                assert resp.method == "HEAD"


async def test_credentials_dropped_on_cross_origin_redirect(asgi_url: str) -> None:
    port = URL(asgi_url).port
    same = redirect_to(asgi_url, "/echo")
    other = redirect_to(asgi_url, f"http://localhost:{port}/echo")
    headers = {"Authorization": "Bearer t", "Cookie": "c=1", "X-Keep": "k"}
    with anyio.fail_after(10):
        async with ClientSession() as session:
            async with session.get(same, headers=headers) as resp:
                data = await resp.json()
            assert header(data, "authorization") == ["Bearer t"]
            assert header(data, "cookie") == ["c=1"]
            async with session.get(other, headers=headers) as resp:
                data = await resp.json()
            assert header(data, "authorization") == []
            assert header(data, "cookie") == []
            assert header(data, "x-keep") == ["k"]
            assert header(data, "host") == [f"localhost:{port}"]
            async with session.get(other, auth=BasicAuth("u", "p")) as resp:
                assert header(await resp.json(), "authorization") == []


async def test_non_http_redirect_is_refused(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            with pytest.raises(NonHttpUrlRedirectClientError):
                await session.get(redirect_to(asgi_url, "ftp://example.com/file"))


async def test_query_params_apply_to_the_first_request_only(asgi_url: str) -> None:
    with anyio.fail_after(10):
        async with ClientSession() as session:
            url = redirect_to(asgi_url, "/echo?from=redirect")
            async with session.get(url, params={"extra": "1"}) as resp:
                data = await resp.json()
            assert resp.history[0].url.query["extra"] == "1"
            assert data["query"] == "from=redirect"
