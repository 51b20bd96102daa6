"""normalize_path_middleware and the @middleware marker, through a real server."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from treadle.server import HTTPFound, Response
from treadle.server._app import Application
from treadle.server._middlewares import middleware, normalize_path_middleware

from ._serving import serve


def make_app(**options: Any) -> Application:
    app = Application(middlewares=[normalize_path_middleware(**options)])

    async def ok(request: Any) -> Response:
        return Response(text=request.path)

    app.router.add_get("/dir/", ok)
    app.router.add_get("/file", ok)
    app.router.add_get("/a/b/", ok)
    return app


async def fetch(url: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        with anyio.fail_after(10):
            return await client.get(url + path, follow_redirects=False)


@pytest.mark.parametrize(
    ("path", "status", "location"),
    [
        ("/dir", 308, "/dir/"),
        ("/dir?x=1", 308, "/dir/?x=1"),
        ("/dir/", 200, None),
        ("/file", 200, None),
        ("/file/", 404, None),  # append_slash only
        ("//a//b", 308, "/a/b/"),
        ("/a//b/", 308, "/a/b/"),
        ("/nothing", 404, None),
    ],
)
async def test_append_slash_and_merge(path: str, status: int, location: str | None) -> None:
    async with serve(make_app()) as (url, _):
        response = await fetch(url, path)
    assert response.status_code == status
    assert response.headers.get("location") == location


@pytest.mark.parametrize(
    ("path", "status", "location"),
    [("/file/", 302, "/file"), ("/dir", 404, None), ("/file//", 302, "/file")],
)
async def test_remove_slash_with_another_redirect_class(
    path: str, status: int, location: str | None
) -> None:
    app = make_app(append_slash=False, remove_slash=True, redirect_class=HTTPFound)
    async with serve(app) as (url, _):
        response = await fetch(url, path)
    assert response.status_code == status
    assert response.headers.get("location") == location


async def test_never_redirects_to_another_host() -> None:
    async with serve(make_app()) as (url, _):
        response = await fetch(url, "//evil.example/dir")
    location = response.headers.get("location", "")
    assert not location.startswith("//")


def test_both_slash_options_are_refused() -> None:
    with pytest.raises(ValueError):
        normalize_path_middleware(append_slash=True, remove_slash=True)


def test_middleware_marker_returns_the_function() -> None:
    async def mw(request: Any, handler: Any) -> Any:
        return await handler(request)

    assert middleware(mw) is mw
    assert mw.__middleware_version__ == 1  # type: ignore[attr-defined]
