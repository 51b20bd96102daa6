"""Hypothesis properties: lookups never blow up, URLs round-trip, static never escapes."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from treadle import server as web
from treadle.server._quoting import requote, safe_decode

from .conftest import handler, other

# Paths built from the characters that matter to routing, plus anything at all.
PATH_CHARS = st.sampled_from(list("/%.aAfF0129{}:\\?#+ é\x00\r\n"))
ROUTING_TEXT = st.text(PATH_CHARS, max_size=40)
PATHS = st.one_of(ROUTING_TEXT.map(lambda s: "/" + s), ROUTING_TEXT, st.text(max_size=40))
METHODS = st.one_of(
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"]),
    st.text(max_size=8),
)
# Characters with a meaning in paths, drawn often, and any other character.
VALUE_CHARS = st.one_of(st.sampled_from(list("/%.?#+ 2F5é\n")), st.characters(codec="utf-8"))
# "{" and "}" cannot be matched by a plain {name} variable (aiohttp's [^{}/]+).
VALUES = st.text(VALUE_CHARS, min_size=1).filter(lambda s: "{" not in s and "}" not in s)
# Static file names: the segments traversal attempts are made of.
SEGMENTS = st.sampled_from(
    ["..", ".", "%2e%2e", "%2E.", ".%2e", "out", "sub", "f.txt", "g.txt", "secret", "", "%2F", "%5C",
     "%00", "C:", "a"]
)  # fmt: skip
STATIC_PATHS = st.lists(SEGMENTS, max_size=6).map("/".join)


class App:
    def __init__(self) -> None:
        self.router = web.UrlDispatcher()


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "root" / "sub").mkdir(parents=True)
        (base / "root" / "f.txt").write_text("x")
        (base / "root" / "sub" / "g.txt").write_text("y")
        (base / "outside").mkdir()
        (base / "outside" / "secret").write_text("s")
        (base / "root" / "out").symlink_to(base / "outside")
        yield base / "root"


@pytest.fixture(scope="module")
def router(root: Path) -> web.UrlDispatcher:
    router = web.UrlDispatcher()
    router.add_get("/", handler)
    router.add_get("/users/{name}", handler, name="user")
    router.add_post(r"/items/{id:\d+}", other)
    router.add_route("*", "/any/{tail:.*}", handler)
    router.add_static("/static", root, show_index=True)
    sub = App()
    sub.router.add_get("/x/{y}", other)
    router.register_resource(web.PrefixedSubAppResource("/sub", sub))
    api = App()
    api.router.add_delete("/{z}", other)
    router.register_resource(web.MatchedSubAppResource(web.domain_rule("*.example.com"), api))
    return router


@settings(max_examples=400)
@given(method=METHODS, path=PATHS, host=st.none() | st.sampled_from(["a.example.com", "x"]))
def test_resolve_only_answers_match_404_or_405(
    router: web.UrlDispatcher, method: str, path: str, host: str | None
) -> None:
    info = router.resolve(method, path, host)
    assert isinstance(info, web.UrlMappingMatchInfo)
    exc = info.http_exception
    if exc is None:
        assert info.route.method in (method, "*")
        assert all(isinstance(value, str) for value in info.values())
    elif isinstance(exc, web.HTTPMethodNotAllowed):
        assert exc.allowed_methods and method not in exc.allowed_methods
        assert exc.headers["Allow"] == ",".join(sorted(exc.allowed_methods))
    else:
        assert isinstance(exc, web.HTTPNotFound)


@settings(max_examples=400)
@given(path=STATIC_PATHS | ROUTING_TEXT)
def test_static_lookup_never_leaves_the_root(
    router: web.UrlDispatcher, root: Path, path: str
) -> None:
    info = router.resolve("GET", "/static/" + path)
    if info.http_exception is not None:
        return
    resource = info.route.resource
    assert isinstance(resource, web.StaticResource)
    try:
        target = resource.locate(info["filename"])
    except (web.HTTPForbidden, web.HTTPNotFound):
        return
    target.path.relative_to(root.resolve())  # raises ValueError if it escaped


@given(name=VALUES)
def test_url_for_round_trips_through_resolve(router: web.UrlDispatcher, name: str) -> None:
    url = router["user"].url_for(name=name)
    info = router.resolve("GET", url.raw_path)
    assert info.http_exception is None
    assert info == {"name": name}


@given(
    a=VALUES, tail=st.text(VALUE_CHARS, min_size=1), num=st.from_regex(r"\d{1,6}", fullmatch=True)
)
def test_url_for_round_trips_with_regex_variables(a: str, tail: str, num: str) -> None:
    router = web.UrlDispatcher()
    router.add_get(r"/p/{a}/n-{num:\d+}/{tail:(?s:.+)}", handler, name="deep")
    url = router["deep"].url_for(a=a, num=num, tail=tail)
    info = router.resolve("GET", url.raw_path)
    assert info == {"a": a, "num": num, "tail": tail}


@given(
    path=st.text(st.characters(codec="utf-8"), max_size=30).filter(
        lambda s: "{" not in s and "}" not in s
    )
)
def test_plain_paths_match_in_raw_and_encoded_form(path: str) -> None:
    path = "/" + path
    router = web.UrlDispatcher()
    resource = router.add_resource(path)
    resource.add_route("GET", handler)
    assert router.resolve("GET", path).handler is handler
    assert router.resolve("GET", requote(path)).handler is handler
    assert router.resolve("GET", resource.url_for().raw_path).handler is handler


@given(text=ROUTING_TEXT | st.text())
def test_safe_decode_is_idempotent(text: str) -> None:
    once = safe_decode(text)
    assert safe_decode(once) == once
