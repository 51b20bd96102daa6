"""The aiohttp-shaped namespaces export what exists, and only real objects."""

from __future__ import annotations

import treadle
from treadle import web


def test_every_exported_name_exists() -> None:
    for module in (treadle, web):
        for name in module.__all__:
            assert getattr(module, name) is not None, (module.__name__, name)


def test_aiohttp_names_available_so_far() -> None:
    for name in ("CookieJar", "DummyCookieJar", "FormData", "MultipartWriter", "StreamReader"):
        assert name in treadle.__all__
    for name in ("HTTPFound", "HTTPNotFound", "RouteTableDef", "View", "get", "post", "static"):
        assert name in web.__all__
    assert issubclass(web.HTTPNotFound, web.HTTPException)
    assert web.HTTPFound("/next").headers["Location"] == "/next"
