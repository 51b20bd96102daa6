"""treadle's pytest plugin, run in-process by pytester on throw-away test files.

The inner sessions load installed plugins the way a user's project does (the ``pytest11``
entry point); ``_plugin_args`` adds ``-p treadle.pytest_plugin`` only if the entry point
is not installed (a stale editable install).
"""

from __future__ import annotations

import pytest

# Imported here so that the inner sessions share these modules: pytester drops modules
# first imported during an inner run, and a later run would get new classes.
import treadle.test_utils
import treadle.web  # noqa: F401

pytest_plugins = ["pytester"]

APP = """
from treadle import web


def make_app():
    async def hello(request):
        return web.Response(text="hello " + request.query.get("name", "world"))

    async def transport(request):
        return web.Response(text=str(request.remote))

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/remote", transport)
    return app
"""


def _plugin_args(pytester: pytest.Pytester) -> list[str]:
    loaded = pytester._request.config.pluginmanager.get_plugin("treadle")
    return ["-p", "no:cacheprovider"] + ([] if loaded else ["-p", "treadle.pytest_plugin"])


def test_fixtures_run_on_every_anyio_backend(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=APP)
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(params=["asyncio", ("asyncio", {"use_uvloop": True}), "trio"])
        def anyio_backend(request):
            return request.param
        """
    )
    pytester.makepyfile(
        test_app="""
        import pytest
        import sniffio

        from app import make_app
        from treadle.test_utils import TestClient, TestServer

        pytestmark = pytest.mark.anyio
        seen = []

        async def test_client(treadle_client):
            client = await treadle_client(make_app())
            resp = await client.get("/", params={"name": "anyio"})
            assert resp.status == 200
            assert await resp.text() == "hello anyio"
            assert client.server.transport == "tcp"
            seen.append((sniffio.current_async_library(), client))

        async def test_clients_were_closed():
            assert len(seen) == 3
            assert all(client.closed and client.server.closed for _, client in seen)

        async def test_server_fixture(treadle_server, treadle_client):
            server = await treadle_server(make_app())
            assert isinstance(server, TestServer) and server.started
            client = await treadle_client(server)
            assert (await client.get("/")).status == 200

        async def test_raw_server_and_handler(treadle_raw_server, treadle_client):
            async def handler(request):
                from treadle import web
                return web.Response(text=request.path)

            server = await treadle_raw_server(handler)
            client = await treadle_client(server)
            assert await (await client.get("/raw")).text() == "/raw"
            client2 = await treadle_client(handler, transport="memory")
            assert await (await client2.get("/mem")).text() == "/mem"

        async def test_memory_transport(treadle_client):
            client = await treadle_client(make_app(), transport="memory")
            assert await (await client.get("/remote")).text() == "memory"

        async def test_server_kwargs(treadle_client):
            app = make_app()
            client = await treadle_client(app, server_kwargs={"max_line_size": 50})
            assert (await client.get("/" + "x" * 100)).status in (400, 414)

        def test_unused_port(unused_port):
            assert 0 < unused_port() < 65536
        """
    )
    result = pytester.runpytest("-v", *_plugin_args(pytester))
    result.assert_outcomes(passed=19)
    assert sum("[trio]" in line and "PASSED" in line for line in result.outlines) == 6


def test_own_asyncio_runner_without_anyio(pytester: pytest.Pytester) -> None:
    """A pure-asyncio project with no async test plugin: the fixtures bring a runner."""
    pytester.makepyfile(app=APP)
    pytester.makepyfile(
        test_plain="""
        import asyncio

        import pytest

        from app import make_app

        order = []

        @pytest.fixture
        async def resource():
            order.append("setup")
            loop = asyncio.get_running_loop()
            yield loop
            order.append("teardown")

        async def test_client(treadle_client, resource):
            assert asyncio.get_running_loop() is resource
            client = await treadle_client(make_app())
            assert await (await client.get("/")).text() == "hello world"

        @pytest.mark.treadle
        async def test_marked(resource):
            await asyncio.sleep(0)
            assert asyncio.get_running_loop() is resource

        def test_fixture_teardown_ran():
            assert order == ["setup", "teardown", "setup", "teardown"]

        async def test_failure_is_reported(treadle_client):
            client = await treadle_client(make_app())
            assert (await client.get("/")).status == 500
        """
    )
    result = pytester.runpytest("-p", "no:anyio", *_plugin_args(pytester))
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*test_failure_is_reported*", "*assert 200 == 500*"])


def test_unmarked_async_test_without_fixtures_is_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        async def test_not_ours():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:anyio", *_plugin_args(pytester))
    outcomes = result.parseoutcomes()
    assert "passed" not in outcomes  # pytest's own "async def not supported" applies


def test_ini_option_selects_the_memory_transport(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=APP)
    pytester.makeini(
        """
        [pytest]
        treadle_transport = memory
        anyio_mode = auto
        """
    )
    pytester.makepyfile(
        test_mem="""
        import pytest

        from app import make_app

        @pytest.fixture
        def anyio_backend():
            return "trio"

        async def test_memory(treadle_client):
            client = await treadle_client(make_app())
            assert client.server.transport == "memory"
            assert await (await client.get("/remote")).text() == "memory"

        async def test_tcp_on_request(treadle_client):
            client = await treadle_client(make_app(), transport="tcp")
            assert await (await client.get("/remote")).text() == "127.0.0.1"
        """
    )
    result = pytester.runpytest(*_plugin_args(pytester))
    result.assert_outcomes(passed=2)


def test_client_class_override_and_argument_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=APP)
    pytester.makeconftest(
        """
        import pytest

        from treadle.test_utils import TestClient

        class MyClient(TestClient):
            async def hello(self):
                return await (await self.get("/")).text()

        @pytest.fixture
        def treadle_client_cls():
            return MyClient

        @pytest.fixture
        def anyio_backend():
            return "asyncio"
        """
    )
    pytester.makepyfile(
        test_cls="""
        import pytest

        from app import make_app
        from treadle.test_utils import TestServer

        pytestmark = pytest.mark.anyio

        async def test_custom_class(treadle_client):
            client = await treadle_client(make_app(), transport="memory")
            assert await client.hello() == "hello world"

        async def test_bad_arguments(treadle_client):
            with pytest.raises(TypeError, match="server_kwargs"):
                await treadle_client(TestServer(make_app()), transport="memory")
            with pytest.raises(TypeError, match="app, a test server or a handler"):
                await treadle_client(42)
        """
    )
    result = pytester.runpytest(*_plugin_args(pytester))
    result.assert_outcomes(passed=2)
