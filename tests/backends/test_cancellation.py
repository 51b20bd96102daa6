"""Cancellation at every await point leaves no socket (fd) or task behind.

Cancellation comes from anyio cancel scopes, as it will in applications using anyio
task groups; a cancelled call must also never return normally (swallowed cancel).
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

import anyio
import anyio.lowlevel
import pytest
import sniffio

from treadle.backends import Backend, Connection, Listener, Resolver, get_backend

from .conftest import (
    Certs,
    Echo,
    Recorder,
    Server,
    blackhole,
    fd_count,
    task_count,
    wait_for_fds,
    wait_for_tasks,
)

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.timeout(60),
    # A socket closed by the garbage collector instead of treadle is a leak.
    pytest.mark.filterwarnings("error::ResourceWarning"),
]

MAX_STEPS = 400


def _cancellation_swallowed() -> bool:
    """True if a cancellation was thrown into the current task and not propagated.

    asyncio counts ``task.cancel()`` calls; a coroutine returning normally with the count
    above zero swallowed a CancelledError. (trio's cancellation is level-triggered: a
    swallowed Cancelled is raised again at the caller's next checkpoint, and the fd/task
    checks below catch any leak it causes.)
    """
    if sniffio.current_async_library() == "asyncio":
        import asyncio

        task = asyncio.current_task()
        return task is not None and task.cancelling() > 0
    return False


async def _sweep_cancellation(connect: Callable[[], Awaitable[Connection]]) -> int:
    """Cancel ``connect`` after 0, 1, 2, ... checkpoints until it completes first.

    Returns how many cancellation points were exercised.
    """
    for steps in range(MAX_STEPS):
        results: list[tuple[Connection, bool]] = []

        async def attempt(results: list[tuple[Connection, bool]]) -> None:
            conn = await connect()
            results.append((conn, _cancellation_swallowed()))

        async with anyio.create_task_group() as tg:
            tg.start_soon(attempt, results)
            for _ in range(steps):
                await anyio.lowlevel.checkpoint()
            tg.cancel_scope.cancel()
        for conn, swallowed in results:
            conn.abort()
            await conn.wait_closed()
            assert not swallowed, "connect returned normally after a cancellation reached it"
        if results and not tg.cancel_scope.cancelled_caught:
            return steps
    raise AssertionError(f"connect did not finish within {MAX_STEPS} checkpoints")


async def _baseline(backend: Backend, connect: Callable[[], Awaitable[Connection]]) -> int:
    """Warm up lazily created fds (executors, uvloop spares) and return the fd count."""
    conn = await connect()
    conn.abort()
    await conn.wait_closed()
    await wait_for_fds(backend, 0, timeout=0.05)
    return fd_count()


async def test_cancel_connect_at_every_await_point(echo_server: Server, certs: Certs) -> None:
    backend = get_backend()
    tls_server = Server(Echo)
    tls_server.listener = await backend.serve_tcp(
        tls_server, "127.0.0.1", 0, ssl=certs.server_context()
    )
    client_ctx = certs.client_context()
    hang, fillers = blackhole()
    good = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", echo_server.port))
    stuck = (socket.AF_INET, socket.SOCK_STREAM, 6, "", hang.getsockname())

    async def lookup(host: str, port: int, family: int) -> list:  # type: ignore[type-arg]
        await anyio.lowlevel.checkpoint()
        return [stuck, good]

    variants: dict[str, Callable[[], Awaitable[Connection]]] = {
        "plain": lambda: backend.connect_tcp(Recorder(), "127.0.0.1", echo_server.port),
        "tls": lambda: backend.connect_tcp(
            Recorder(), "127.0.0.1", tls_server.port, ssl=client_ctx
        ),
        "happy-eyeballs": lambda: backend.connect_tcp(
            Recorder(),
            "two.addresses.invalid",
            80,
            happy_eyeballs_delay=0.001,
            resolver=Resolver(lookup=lookup),
        ),
    }
    try:
        for name, connect in variants.items():
            before_fds = await _baseline(backend, connect)
            before_tasks = task_count()
            with anyio.fail_after(30):
                points = await _sweep_cancellation(connect)
            assert points >= 1, name
            assert await wait_for_fds(backend, before_fds) <= before_fds, name
            assert await wait_for_tasks(backend, before_tasks) <= before_tasks, name
    finally:
        await tls_server.close()
        for sock in [hang, *fillers]:
            sock.close()


class _CloseOnEof(Recorder):
    def eof_received(self) -> None:
        super().eof_received()
        self.conn.close()  # type: ignore[union-attr]


async def test_cancel_during_stalled_tls_handshake(certs: Certs) -> None:
    backend = get_backend()
    # Accepts but never speaks TLS, so the client's handshake hangs. It closes on EOF,
    # including connections it only accepts after the client gave up.
    plain = Server(_CloseOnEof)
    plain.listener = await backend.serve_tcp(plain, "127.0.0.1", 0)
    try:
        await anyio.sleep(0.01)
        before = fd_count()
        before_tasks = task_count()
        for _ in range(3):
            with anyio.move_on_after(0.05) as scope:
                await backend.connect_tcp(
                    Recorder(), "127.0.0.1", plain.port, ssl=certs.client_context()
                )
            assert scope.cancelled_caught
        assert await wait_for_fds(backend, before, timeout=5) <= before
        assert await wait_for_tasks(backend, before_tasks) <= before_tasks
    finally:
        await plain.close()


async def _open_pair(backend: Backend) -> tuple[Server, Connection, Recorder]:
    server = Server(Recorder)
    server.listener = await backend.serve_tcp(server, "127.0.0.1", 0)
    client = Recorder()
    conn = await backend.connect_tcp(client, "127.0.0.1", server.port)
    await server.first_handler()
    return server, conn, client


@pytest.mark.parametrize("point", ["read", "drain", "wait_closed", "sendfile"])
async def test_cancel_while_reading_writing_or_closing(point: str) -> None:
    """A task cancelled in a read wait, drain, wait_closed or sendfile cleans up with abort()."""
    backend = get_backend()
    # Warm-up so lazily created fds/threads do not count as leaks.
    server, conn, _ = await _open_pair(backend)
    conn.abort()
    await conn.wait_closed()
    await server.close()
    await wait_for_fds(backend, 0, timeout=0.05)
    before_fds = fd_count()
    before_tasks = task_count()

    server, conn, client = await _open_pair(backend)
    peer = server.handlers[0]
    peer.conn.pause_reading()  # type: ignore[union-attr]  # a peer that does not read
    reached_after = False

    async def victim() -> None:
        nonlocal reached_after
        try:
            if point == "read":
                await client.wait_bytes(1)  # the peer never sends
            elif point == "drain":
                while True:
                    conn.write(b"x" * 65536)
                    await conn.drain()
            elif point == "wait_closed":
                conn.write(b"x" * (16 * 1024 * 1024))  # cannot be flushed: peer not reading
                conn.close()
                await conn.wait_closed()
            else:
                import tempfile

                with tempfile.TemporaryFile() as f:
                    f.write(b"y" * (16 * 1024 * 1024))
                    f.flush()
                    await backend.sendfile(conn, f, 0)
            reached_after = True
        finally:
            conn.abort()

    with anyio.fail_after(20):
        with anyio.move_on_after(0.1) as scope:
            await victim()
        assert scope.cancelled_caught
        assert not reached_after
        await conn.wait_closed()
        assert conn.is_closing()
        peer.conn.resume_reading()  # type: ignore[union-attr]
        # The peer sees EOF (or a reset if unsent data was discarded) and closes.
        while not (peer.eof.is_set() or peer.lost.is_set()):
            await backend.sleep(0.005)
        peer.conn.close()  # type: ignore[union-attr]
        await peer.lost.wait()
        await server.close()
    assert await wait_for_fds(backend, before_fds) <= before_fds
    assert await wait_for_tasks(backend, before_tasks) <= before_tasks


async def test_graceful_close_flushes_then_releases_everything() -> None:
    """close() without abort: once the peer reads, the buffer drains and the fd goes."""
    backend = get_backend()
    server, conn, client = await _open_pair(backend)
    conn.abort()
    await conn.wait_closed()
    await server.close()
    await wait_for_fds(backend, 0, timeout=0.05)
    before_fds = fd_count()

    server, conn, client = await _open_pair(backend)
    peer = server.handlers[0]
    peer.conn.pause_reading()  # type: ignore[union-attr]
    payload = b"z" * (4 * 1024 * 1024)
    conn.write(payload)
    conn.close()
    with anyio.move_on_after(0.05):
        await conn.wait_closed()  # cancelled: the close goes on in the background
    assert conn.is_closing()
    peer.conn.resume_reading()  # type: ignore[union-attr]
    with anyio.fail_after(20):
        await conn.wait_closed()
        await peer.eof.wait()
    assert peer.received == len(payload)
    assert client.exc is None
    peer.conn.close()  # type: ignore[union-attr]
    await peer.lost.wait()
    await server.close()
    assert await wait_for_fds(backend, before_fds) <= before_fds


async def test_cancel_serve_and_accept() -> None:
    backend = get_backend()
    listener = await backend.serve_tcp(Server(Echo), "127.0.0.1", 0)
    await listener.aclose()
    await wait_for_fds(backend, 0, timeout=0.05)
    before = fd_count()
    before_tasks = task_count()
    for steps in range(4):
        opened: list[tuple[Listener, bool]] = []
        with anyio.CancelScope() as scope:

            async def serve(opened: list[tuple[Listener, bool]]) -> None:
                listener = await backend.serve_tcp(Server(Echo), "127.0.0.1", 0)
                opened.append((listener, _cancellation_swallowed()))

            async with anyio.create_task_group() as tg:
                tg.start_soon(serve, opened)
                for _ in range(steps):
                    await anyio.lowlevel.checkpoint()
                scope.cancel()
        for listener, swallowed in opened:
            await listener.aclose()
            assert not swallowed, "serve_tcp returned normally after a cancellation reached it"
    assert await wait_for_fds(backend, before) <= before
    assert await wait_for_tasks(backend, before_tasks) <= before_tasks
