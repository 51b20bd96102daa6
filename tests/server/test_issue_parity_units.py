"""Small parity fixes found by the aiohttp comparisons, pinned as unit tests."""

from __future__ import annotations

from typing import Any

from treadle import web
from treadle.server import UrlDispatcher
from treadle.server._subapps import MatchedSubAppResource, domain_rule


async def handler(request: Any) -> Any:
    return None


def test_domain_sub_app_wins_over_the_parents_same_path() -> None:
    """aiohttp 3.10+ looks at add_domain() sub-apps first, whatever the order."""
    sub = UrlDispatcher()
    sub.add_get("/", handler, name="sub_index")

    class SubApp:
        router = sub

    router = UrlDispatcher()
    router.add_get("/", handler, name="index")
    router.register_resource(MatchedSubAppResource(domain_rule("api.example.com"), SubApp()))  # type: ignore[arg-type]
    on_domain = router.resolve("GET", "/", "api.example.com")
    elsewhere = router.resolve("GET", "/", "www.example.com")
    assert on_domain.route.resource is not None and on_domain.route.resource.name == "sub_index"
    assert elsewhere.route.resource is not None and elsewhere.route.resource.name == "index"
    # Registration order is still what views and iteration show.
    assert [type(r).__name__ for r in router.resources()] == [
        "PlainResource",
        "MatchedSubAppResource",
    ]


def test_float_last_modified_is_rounded_up_as_aiohttp() -> None:
    response = web.Response()
    response.last_modified = 1000.2
    assert response.headers["Last-Modified"] == "Thu, 01 Jan 1970 00:16:41 GMT"
    response.last_modified = 1000
    assert response.headers["Last-Modified"] == "Thu, 01 Jan 1970 00:16:40 GMT"
