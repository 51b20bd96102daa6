"""An app that answers with every request attribute of PARITY.md, as JSON.

The same code runs under treadle (in-process) and under aiohttp
(``python -m tests.server._attr_dump``, which prints ``PORT <n>`` and serves until
killed), so a test can send identical raw requests to both and compare.
"""

from __future__ import annotations

import datetime
import sys
from types import ModuleType
from typing import Any


def _plain(value: Any) -> Any:
    """JSON-friendly form of an attribute (ETags, datetimes, multidicts, slices)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, slice):
        return [value.start, value.stop, value.step]
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if hasattr(value, "is_weak") and hasattr(value, "value"):
        return [value.value, value.is_weak]
    if hasattr(value, "items"):
        return [[str(k), _plain(v)] for k, v in value.items()]
    return str(value)


def make_app(web: ModuleType) -> Any:
    name_key = web.AppKey("name", str)

    async def dump(request: Any) -> Any:
        out: dict[str, Any] = {}
        for name in (
            "method", "version", "url", "rel_url", "path", "raw_path", "path_qs",
            "query_string", "query", "headers", "cookies", "host", "scheme", "secure",
            "remote", "forwarded", "content_type", "charset", "content_length",
            "can_read_body", "body_exists", "has_body", "if_modified_since",
            "if_unmodified_since", "if_range", "if_match", "if_none_match", "keep_alive",
            "match_info",
        ):  # fmt: skip
            try:
                out[name] = _plain(getattr(request, name))
            except Exception as exc:
                out[name] = f"raises {type(exc).__name__}"
        try:
            out["http_range"] = _plain(request.http_range)
        except ValueError:
            out["http_range"] = "raises ValueError"
        out["version"] = list(request.version)
        out["mapping"] = "user" not in request
        request["user"] = "ann"
        out["mapping_set"] = request["user"]
        out["clone_path"] = request.clone(rel_url="/other?z=9").path_qs
        out["app_is_app"] = request.app is request.match_info.apps[-1]
        out["config_dict"] = request.config_dict.get(name_key)
        if request.method == "POST":
            if request.content_type in ("application/x-www-form-urlencoded",):
                out["post"] = [[k, v] for k, v in (await request.post()).items()]
            elif request.content_type == "application/json":
                out["json"] = await request.json()
            else:
                out["text"] = await request.text()
        return web.json_response(out)

    app = web.Application()
    app[name_key] = "dump-app"
    app.router.add_route("*", "/items/{kind}/{id:\\d+}", dump)
    app.router.add_route("*", "/{tail:.*}", dump)
    return app


if __name__ == "__main__":
    if sys.argv[1:] == ["aiohttp"]:
        from aiohttp import web

        from ._aiohttp_peer import serve_forever

        serve_forever(make_app(web))
