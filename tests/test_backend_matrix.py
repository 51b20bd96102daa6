"""The test matrix itself: an async test with no marks runs on all three backends,
each on the event loop its parameter names."""

from __future__ import annotations

import asyncio

import pytest
import sniffio

SEEN: set[str] = set()


async def test_runs_on_the_loop_its_parameter_names(request: pytest.FixtureRequest) -> None:
    name, options = request.node.callspec.params["anyio_backend"]
    library = sniffio.current_async_library()
    assert library == name
    if library == "asyncio":
        module = type(asyncio.get_running_loop()).__module__
        assert module.startswith("uvloop") == bool(options.get("use_uvloop"))
        SEEN.add("uvloop" if options.get("use_uvloop") else "asyncio")
    else:
        SEEN.add("trio")


def test_all_three_backends_ran() -> None:
    if not SEEN:
        pytest.skip("run together with the test above (pytest keeps file order)")
    assert {"asyncio", "uvloop", "trio"} == SEEN
