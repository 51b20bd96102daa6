"""Static resources: request path -> file under the root, and nothing outside it."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from treadle import server as web

REFUSED = (web.HTTPForbidden, web.HTTPNotFound)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root/ with files, a sub-directory and links; outside/ next to it with a secret."""
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "file.txt").write_text("hello")
    (root / "a b.txt").write_text("spaced")
    (root / "sub" / "inner.txt").write_text("inner")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (root / "link_out").symlink_to(outside / "secret.txt")
    (root / "dirlink_out").symlink_to(outside)
    (root / "link_in").symlink_to(root / "sub" / "inner.txt")
    (root / "loop").symlink_to(root / "loop")
    return root


def lookup(resource: web.StaticResource, router: web.UrlDispatcher, raw: str) -> Path:
    info = router.resolve("GET", raw)
    assert info.http_exception is None, raw
    target = resource.locate(info["filename"])
    return target.path


@pytest.fixture
def static(tree: Path) -> tuple[web.UrlDispatcher, web.StaticResource]:
    router = web.UrlDispatcher()
    return router, router.add_static("/static/", tree, name="static")


def test_files_resolve_inside_the_root(static: Any, tree: Path) -> None:
    router, resource = static
    assert lookup(resource, router, "/static/file.txt") == tree / "file.txt"
    assert lookup(resource, router, "/static/sub/inner.txt") == tree / "sub" / "inner.txt"
    assert lookup(resource, router, "/static/a%20b.txt") == tree / "a b.txt"
    assert router.resolve("GET", "/static/sub/inner.txt") == {"filename": "sub/inner.txt"}


def test_head_is_allowed_and_other_methods_get_405(static: Any) -> None:
    router, _ = static
    assert router.resolve("HEAD", "/static/file.txt").route.method == "HEAD"
    exc = router.resolve("POST", "/static/file.txt").http_exception
    assert isinstance(exc, web.HTTPMethodNotAllowed)
    assert exc.headers["Allow"] == "GET,HEAD"


def test_prefix_must_end_at_a_segment(static: Any) -> None:
    router, _ = static
    assert isinstance(router.resolve("GET", "/staticfile.txt").http_exception, web.HTTPNotFound)


@pytest.mark.parametrize(
    "raw",
    [
        "/static/../outside/secret.txt",
        "/static/%2e%2e/outside/secret.txt",
        "/static/%2E%2E%2Foutside%2Fsecret.txt",
        "/static/.%2e/outside/secret.txt",
        "/static/sub/../../outside/secret.txt",
        "/static/sub/%2e%2e/%2e%2e/outside/secret.txt",
        "/static/..%5Coutside%5Csecret.txt",
        "/static/..%5c..%5coutside%5csecret.txt",
        "/static/sub%5C..%5C..%5Coutside",
        "/static/file.txt%00.png",
        "/static/%00",
        "/static//etc/passwd",
        "/static/%2Fetc%2Fpasswd",
        "/static/%2F%2Fserver%2Fshare",
        "/static/C:%5CWindows%5Cwin.ini",
        "/static/C:/Windows/win.ini",
        "/static/..",
        "/static/sub/..",
    ],
)
def test_traversal_is_refused(static: Any, raw: str) -> None:
    router, resource = static
    info = router.resolve("GET", raw)
    assert info.http_exception is None
    with pytest.raises(REFUSED):
        resource.locate(info["filename"])


def test_absolute_paths_are_forbidden(static: Any) -> None:
    _, resource = static
    with pytest.raises(web.HTTPForbidden):
        resource.locate("/etc/passwd")
    with pytest.raises(web.HTTPForbidden):
        resource.locate("C:\\Windows")


def test_symlink_out_of_root_is_refused_without_follow_symlinks(static: Any) -> None:
    _, resource = static
    with pytest.raises(web.HTTPNotFound):
        resource.locate("link_out")
    with pytest.raises(web.HTTPNotFound):
        resource.locate("dirlink_out/secret.txt")


def test_symlink_inside_root_is_served(static: Any, tree: Path) -> None:
    _, resource = static
    assert resource.locate("link_in").path == tree / "sub" / "inner.txt"


def test_symlink_loop_is_not_found(static: Any) -> None:
    _, resource = static
    with pytest.raises(web.HTTPNotFound):
        resource.locate("loop")


def test_follow_symlinks_allows_links_but_not_dotdot(tree: Path) -> None:
    resource = web.UrlDispatcher().add_static("/s", tree, follow_symlinks=True)
    outside = tree.parent / "outside" / "secret.txt"
    assert resource.locate("link_out").path == outside
    assert resource.locate("dirlink_out/secret.txt").path == outside
    assert resource.follow_symlinks is True
    with pytest.raises(REFUSED):
        resource.locate("../outside/secret.txt")


def test_directories_are_forbidden_unless_show_index(static: Any, tree: Path) -> None:
    _, resource = static
    with pytest.raises(web.HTTPForbidden):
        resource.locate("sub")
    with pytest.raises(web.HTTPForbidden):
        resource.locate("")
    listing = web.UrlDispatcher().add_static("/s", tree, show_index=True)
    assert listing.locate("sub") == web.StaticTarget(tree / "sub", is_dir=True)
    assert listing.locate("") == web.StaticTarget(tree, is_dir=True)
    assert listing.locate("file.txt") == web.StaticTarget(tree / "file.txt", is_dir=False)


def test_missing_and_special_files_are_not_found(static: Any, tree: Path) -> None:
    _, resource = static
    with pytest.raises(web.HTTPNotFound):
        resource.locate("nope.txt")
    os.mkfifo(tree / "fifo")
    with pytest.raises(web.HTTPNotFound):
        resource.locate("fifo")


def test_static_root_must_be_a_directory(tmp_path: Path) -> None:
    router = web.UrlDispatcher()
    with pytest.raises(ValueError, match="No directory"):
        router.add_static("/s", tmp_path / "missing")
    (tmp_path / "f").write_text("")
    with pytest.raises(ValueError):
        router.add_static("/s", tmp_path / "f")
    with pytest.raises(ValueError):
        router.add_static("s", tmp_path)


def test_url_for_and_append_version(static: Any, tree: Path) -> None:
    _, resource = static
    assert str(resource.url_for(filename="a b.txt")) == "/static/a%20b.txt"
    assert str(resource.url_for(filename="/sub/inner.txt")) == "/static/sub/inner.txt"
    assert str(resource.url_for(filename=Path("sub") / "inner.txt")) == "/static/sub/inner.txt"
    digest = hashlib.sha256(b"hello").digest()
    expected = base64.urlsafe_b64encode(digest).decode()
    url = resource.url_for(filename="file.txt", append_version=True)
    assert url.query["v"] == expected
    # Nothing to hash: a missing file, a directory, or a link leaving the root.
    for name in ("nope.txt", "sub", "link_out", "../outside/secret.txt"):
        assert "v" not in resource.url_for(filename=name, append_version=True).query


def test_append_version_default_comes_from_add_static(tree: Path) -> None:
    resource = web.UrlDispatcher().add_static("/s", tree, append_version=True)
    assert "v" in resource.url_for(filename="file.txt").query
    assert "v" not in resource.url_for(filename="file.txt", append_version=False).query


def test_static_info_len_iter_and_options(static: Any, tree: Path) -> None:
    router, resource = static
    assert router["static"] is resource
    assert resource.directory == tree.resolve()
    assert resource.get_info()["prefix"] == "/static"
    assert [route.method for route in resource] == ["GET", "HEAD"]

    async def options(request: Any) -> None:
        return None

    resource.set_options_route(options)
    assert len(resource) == 3
    assert router.resolve("OPTIONS", "/static/x").handler is options
    exc = router.resolve("POST", "/static/x").http_exception
    assert isinstance(exc, web.HTTPMethodNotAllowed)
    assert exc.headers["Allow"] == "GET,HEAD,OPTIONS"
    with pytest.raises(RuntimeError):
        resource.set_options_route(options)


class FakeRequest:
    def __init__(self, match_info: web.UrlMappingMatchInfo) -> None:
        self.match_info = match_info


async def test_handler_hands_the_target_to_the_responder(tree: Path) -> None:
    seen: list[web.StaticTarget] = []

    async def responder(request: Any, target: web.StaticTarget) -> str:
        seen.append(target)
        return "sent"

    router = web.UrlDispatcher(static_responder=responder)
    router.add_static("/s", tree)
    info = router.resolve("GET", "/s/file.txt")
    assert await info.handler(FakeRequest(info)) == "sent"
    assert seen == [web.StaticTarget(tree / "file.txt", is_dir=False)]
    bad = router.resolve("GET", "/s/%2e%2e/outside/secret.txt")
    with pytest.raises(web.HTTPNotFound):
        await bad.handler(FakeRequest(bad))


async def test_handler_without_responder_serves_a_file_response(static: Any) -> None:
    from treadle.server._file_response import FileResponse

    router, _ = static
    info = router.resolve("GET", "/static/file.txt")
    response = await info.handler(FakeRequest(info))
    assert isinstance(response, FileResponse)
