"""normalize_path_middleware and the @middleware marker, through a real server.

The app is served in memory by the ``treadle_client`` fixture: the real server stack
and protocol core, no sockets. ``skip_url_asserts`` lets paths like ``//a//b`` through
as they are (a relative URL would read ``a`` as a host).
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from treadle.server import HTTPFound, Response
from treadle.server._app import Application
from treadle.server._middlewares import middleware, normalize_path_middleware


def make_app(**options: Any) -> Application:
    app = Application(middlewares=[normalize_path_middleware(**options)])

    async def ok(request: Any) -> Response:
        return Response(text=request.path)

    app.router.add_get("/dir/", ok)
    app.router.add_get("/file", ok)
    app.router.add_get("/a/b/", ok)
    return app


async def fetch(treadle_client: Any, app: Application, path: str) -> tuple[int, str | None]:
    """Status and Location of ``GET path``, redirects not followed."""
    server_kwargs = {"skip_url_asserts": True}
    client = await treadle_client(app, transport="memory", server_kwargs=server_kwargs)
    with anyio.fail_after(10):
        async with client.get(path, allow_redirects=False) as response:
            return response.status, response.headers.get("Location")


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
async def test_append_slash_and_merge(
    treadle_client: Any, path: str, status: int, location: str | None
) -> None:
    assert await fetch(treadle_client, make_app(), path) == (status, location)


@pytest.mark.parametrize(
    ("path", "status", "location"),
    [("/file/", 302, "/file"), ("/dir", 404, None), ("/file//", 302, "/file")],
)
async def test_remove_slash_with_another_redirect_class(
    treadle_client: Any, path: str, status: int, location: str | None
) -> None:
    app = make_app(append_slash=False, remove_slash=True, redirect_class=HTTPFound)
    assert await fetch(treadle_client, app, path) == (status, location)


async def test_never_redirects_to_another_host(treadle_client: Any) -> None:
    status, location = await fetch(treadle_client, make_app(), "//evil.example/dir")
    assert (status, location) == (404, None)  # "/evil.example/dir/" is no route either


def test_both_slash_options_are_refused() -> None:
    with pytest.raises(ValueError):
        normalize_path_middleware(append_slash=True, remove_slash=True)


def test_middleware_marker_returns_the_function() -> None:
    async def mw(request: Any, handler: Any) -> Any:
        return await handler(request)

    assert middleware(mw) is mw
    assert mw.__middleware_version__ == 1  # type: ignore[attr-defined]
