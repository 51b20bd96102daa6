"""Runners and sites on the real backends: TCP, Unix, an existing socket, HTTPS."""

from __future__ import annotations

import contextlib
import functools
import signal
import socket
import ssl
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import httpx
import pytest
import trustme

from treadle import web
from treadle.backends import Event, get_backend
from treadle.server._runner import ServerRunner
from treadle.server._sites import SockSite, TCPSite, UnixSite

from ._hello_server import BODY, HelloServer


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def sock_path(tmp_path: Path) -> Iterator[str]:
    # Unix socket paths are short (108 bytes): tmp_path can be too long.
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tr") as directory:
        yield str(Path(directory) / "s.sock")


async def _get(url: str, **kwargs: object) -> httpx.Response:
    with anyio.fail_after(10):
        async with httpx.AsyncClient(**kwargs) as client:  # type: ignore[arg-type]
            return await client.get(url)


@contextlib.asynccontextmanager
async def set_up(runner: ServerRunner) -> AsyncIterator[ServerRunner]:
    """``runner`` after ``setup()``, cleaned up on exit whatever the test did."""
    await runner.setup()
    try:
        yield runner
    finally:
        await runner.cleanup()


async def test_tcp_site_on_port_0_serves_and_reports_its_address() -> None:
    server = HelloServer()
    async with set_up(ServerRunner(server, shutdown_timeout=3.5)) as runner:
        site = TCPSite(runner, "127.0.0.1", 0)
        assert site.name == "http://127.0.0.1:0"
        await site.start()
        assert runner.sites == {site}
        [(host, port)] = runner.addresses
        assert host == "127.0.0.1" and port > 0
        assert site.name == f"http://127.0.0.1:{port}"
        response = await _get(f"http://127.0.0.1:{port}/")
        assert (response.status_code, response.content) == (200, BODY)
        assert server.requests_count == 1
    assert server.calls == ["pre_shutdown", ("shutdown", 3.5)]
    assert runner.server is None and runner.sites == set() and runner.addresses == []
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


async def test_unix_site(sock_path: str) -> None:
    async with set_up(ServerRunner(HelloServer())) as runner:
        site = UnixSite(runner, sock_path)
        assert site.name == f"http://unix:{sock_path}:"
        await site.start()
        assert runner.addresses == [sock_path]
        transport = httpx.AsyncHTTPTransport(uds=sock_path)
        response = await _get("http://localhost/", transport=transport)
        assert response.content == BODY
    assert not Path(sock_path).exists()


async def test_sock_site_serves_an_existing_socket() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    runner = ServerRunner(HelloServer())
    await runner.setup()
    try:
        site = SockSite(runner, sock)
        assert site.name == f"http://127.0.0.1:{port}"
        await site.start()
        assert runner.addresses == [("127.0.0.1", port)]
        response = await _get(f"http://127.0.0.1:{port}/x")
        assert response.content == BODY
    finally:
        await runner.cleanup()
        sock.close()


async def test_https_site(ca: trustme.CA) -> None:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    async with set_up(ServerRunner(HelloServer())) as runner:
        site = TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
        await site.start()
        port = runner.addresses[0][1]
        assert site.name == f"https://127.0.0.1:{port}"
        response = await _get(f"https://localhost:{port}/", verify=client_ctx)
        assert response.content == BODY


async def test_two_sites_and_stopping_one() -> None:
    async with set_up(ServerRunner(HelloServer())) as runner:
        first = TCPSite(runner, "127.0.0.1", 0)
        second = TCPSite(runner, "127.0.0.1", 0)
        await first.start()
        await second.start()
        assert len(runner.addresses) == 2
        first_port = first.listener.addresses[0][1] if first.listener else 0
        await first.stop()
        assert runner.sites == {second}
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", first_port), timeout=5).close()
        response = await _get(f"http://127.0.0.1:{runner.addresses[0][1]}/")
        assert response.content == BODY
        with pytest.raises(RuntimeError, match="not registered"):
            await first.stop()


async def test_default_ports_and_names() -> None:
    async with set_up(ServerRunner(HelloServer())) as runner:
        assert TCPSite(runner).name == "http://0.0.0.0:8080"
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        assert TCPSite(runner, ssl_context=ctx).name == "https://0.0.0.0:8443"
        assert TCPSite(runner, "::1", 81).name == "http://[::1]:81"


async def test_site_needs_a_set_up_runner() -> None:
    runner = ServerRunner(HelloServer())
    with pytest.raises(RuntimeError, match=r"runner.setup\(\)"):
        TCPSite(runner)
    await runner.setup()
    with pytest.raises(RuntimeError, match="already called"):
        await runner.setup()
    await runner.cleanup()


async def test_site_cannot_start_twice() -> None:
    async with set_up(ServerRunner(HelloServer())) as runner:
        site = TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        with pytest.raises(RuntimeError, match="already registered"):
            await site.start()


async def test_failed_listen_unregisters_the_site() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    runner = ServerRunner(HelloServer())
    await runner.setup()
    try:
        site = TCPSite(runner, "127.0.0.1", taken.getsockname()[1], reuse_address=False)
        with pytest.raises(OSError):
            await site.start()
        assert runner.sites == set()
    finally:
        await runner.cleanup()
        taken.close()


async def test_site_shutdown_timeout_is_deprecated() -> None:
    async with set_up(ServerRunner(HelloServer())) as runner:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            TCPSite(runner, shutdown_timeout=5.0)
        assert [w.category for w in caught] == [DeprecationWarning]
        assert runner.shutdown_timeout == 5.0


# -- AppRunner with a real Application -------------------------------------------------


def _app(events: list[str], gate: Event | None = None) -> web.Application:
    async def slow(request: web.Request) -> web.Response:
        events.append("handler started")
        if gate is not None:
            gate.set()
        await get_backend().sleep(float(request.query.get("t", "0.5")))
        events.append("handler done")
        return web.Response(text="done")

    async def on_startup(app: web.Application) -> None:
        events.append("startup")

    async def on_shutdown(app: web.Application) -> None:
        events.append("shutdown")

    async def on_cleanup(app: web.Application) -> None:
        events.append("cleanup")

    app = web.Application()
    app.router.add_get("/", slow)
    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


def test_app_runner_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match=r"web\.Application"):
        web.AppRunner(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="access_log_class"):
        web.AppRunner(web.Application(), access_log_class=object)  # type: ignore[arg-type]


async def test_app_runner_cleanup_lets_the_request_in_flight_finish() -> None:
    events: list[str] = []
    gate = get_backend().create_event()
    runner = web.AppRunner(_app(events, gate), shutdown_timeout=10)
    await runner.setup()
    assert events == ["startup"]
    assert runner.app.frozen
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    responses: list[httpx.Response] = []

    async def fetch() -> None:
        responses.append(await _get(f"http://127.0.0.1:{port}/?t=0.5"))

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(fetch)
            await gate.wait()
            await runner.cleanup()
            assert events[-1] == "cleanup"
    assert [(r.status_code, r.text) for r in responses] == [(200, "done")]
    assert events == ["startup", "handler started", "shutdown", "handler done", "cleanup"]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


async def test_app_runner_cancels_handlers_after_shutdown_timeout() -> None:
    events: list[str] = []
    gate = get_backend().create_event()
    runner = web.AppRunner(_app(events, gate), shutdown_timeout=0.2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    errors: list[BaseException] = []

    async def fetch() -> None:
        try:
            await _get(f"http://127.0.0.1:{port}/?t=30")
        except httpx.HTTPError as exc:
            errors.append(exc)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(fetch)
            await gate.wait()
            await runner.cleanup()
    assert "handler done" not in events and events[-1] == "cleanup"
    assert len(errors) == 1


async def test_run_app_in_a_running_loop_stops_on_sigint() -> None:
    events: list[str] = []
    banner: list[str] = []
    started = get_backend().create_event()
    sigint_handler = signal.getsignal(signal.SIGINT)

    def on_banner(text: str) -> None:
        banner.append(text)
        started.set()

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(
                functools.partial(
                    web._run_app, _app(events), host="127.0.0.1", port=0, print=on_banner
                )
            )
            await started.wait()
            port = int(banner[0].split(" ========")[0].rsplit(":", 1)[1])
            response = await _get(f"http://127.0.0.1:{port}/?t=0")
            assert response.text == "done"
            signal.raise_signal(signal.SIGINT)
    assert banner == [
        f"======== Running on http://127.0.0.1:{port} ========\n(Press CTRL+C to quit)"
    ]
    assert events[0] == "startup" and events[-2:] == ["shutdown", "cleanup"]
    # The previous SIGINT handler is back.
    assert signal.getsignal(signal.SIGINT) == sigint_handler
