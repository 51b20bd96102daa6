"""Shared helpers for the backend conformance suite (every test runs on all backends)."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import socket
import ssl
import tempfile
from collections.abc import AsyncIterator, Iterator

import pytest
import sniffio
import trustme

from treadle.backends import Backend, Connection, Event, Listener, get_backend


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def task_count() -> int:
    """Live tasks of the running library (trio: walk every nursery from the root)."""
    if sniffio.current_async_library() == "asyncio":
        import asyncio

        return len(asyncio.all_tasks())
    import trio

    def walk(task: trio.lowlevel.Task) -> int:
        return 1 + sum(walk(t) for n in task.child_nurseries for t in n.child_tasks)

    root = trio.lowlevel.current_root_task()
    assert root is not None
    return walk(root)


async def settle(backend: Backend) -> None:
    """Let pending close callbacks run (asyncio closes sockets one loop turn later)."""
    for _ in range(5):
        await backend.sleep(0.001)
    gc.collect()


async def wait_for_fds(backend: Backend, expected: int, timeout: float = 5.0) -> int:
    """The fd count once it is back to ``expected`` (or whatever it is at the timeout)."""
    deadline = backend.current_time() + timeout
    while True:
        await settle(backend)
        count = fd_count()
        if count <= expected or backend.current_time() > deadline:
            return count
        await backend.sleep(0.01)


async def wait_for_tasks(backend: Backend, expected: int) -> int:
    """The live task count once it is back to ``expected`` (or whatever it is after ~5 s)."""
    for _ in range(1000):  # up to ~5 s on a loaded machine
        if task_count() <= expected:
            break
        await backend.sleep(0.005)
    return task_count()


def blackhole() -> tuple[socket.socket, list[socket.socket]]:
    """A listener whose accept queue is full: further SYNs are dropped (connect hangs)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(2):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(listener.getsockname())
        fillers.append(filler)
    return listener, fillers


class Recorder:
    """A ConnectionHandler recording everything, with awaitable milestones."""

    def __init__(self, backend: Backend | None = None) -> None:
        self.backend = backend or get_backend()
        self.conn: Connection | None = None
        self.chunks: list[bytes] = []
        self.received = 0
        self.made = self.backend.create_event()
        self.eof = self.backend.create_event()
        self.lost = self.backend.create_event()
        self.exc: BaseException | None = None
        self.calls: list[str] = []
        self._want: tuple[int, Event] | None = None

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)

    def connection_made(self, conn: Connection) -> None:
        self.calls.append("made")
        self.conn = conn
        self.made.set()

    def data_received(self, data: bytes) -> None:
        assert isinstance(data, bytes)
        self.chunks.append(data)
        self.received += len(data)
        self._check()

    def eof_received(self) -> None:
        self.calls.append("eof")
        self.eof.set()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.calls.append("lost")
        self.exc = exc
        self.lost.set()
        self._check(force=True)

    def _check(self, force: bool = False) -> None:
        if self._want is not None and (force or self.received >= self._want[0]):
            self._want[1].set()
            self._want = None

    async def wait_bytes(self, n: int) -> bytes:
        while self.received < n and not self.lost.is_set():
            event = self.backend.create_event()
            self._want = (n, event)
            await event.wait()
        return self.data


class Echo(Recorder):
    """Server handler writing back what it reads; closes after the peer's EOF."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        assert self.conn is not None
        self.conn.write(data)

    def eof_received(self) -> None:
        super().eof_received()
        assert self.conn is not None
        self.conn.close()


class Server:
    """A listener plus the handlers it created."""

    def __init__(self, factory: type[Recorder] = Echo) -> None:
        self.factory = factory
        self.handlers: list[Recorder] = []
        self.listener: Listener | None = None
        self.accepted = get_backend().create_event()

    def __call__(self) -> Recorder:
        handler = self.factory()
        self.handlers.append(handler)
        self.accepted.set()
        return handler

    @property
    def port(self) -> int:
        assert self.listener is not None
        port: int = self.listener.addresses[0][1]
        return port

    async def close(self) -> None:
        """Stop listening and abort every server-side connection (the listener leaves
        accepted connections to their owner, so the test owns them)."""
        if self.listener is not None:
            await self.listener.aclose()
        for handler in self.handlers:
            if handler.conn is not None:
                handler.conn.abort()
                await handler.conn.wait_closed()

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def first_handler(self) -> Recorder:
        await self.accepted.wait()
        await self.handlers[0].made.wait()
        return self.handlers[0]


@contextlib.asynccontextmanager
async def serving(
    factory: type[Recorder] = Echo, *, tls: ssl.SSLContext | None = None
) -> AsyncIterator[Server]:
    """A :class:`Server` of ``factory`` handlers on 127.0.0.1 (any port), closed on exit."""
    server = Server(factory)
    server.listener = await get_backend().serve_tcp(server, "127.0.0.1", 0, ssl=tls)
    async with server:
        yield server


@pytest.fixture
async def echo_server() -> AsyncIterator[Server]:
    async with serving(Echo) as server:
        yield server


class Certs:
    def __init__(self) -> None:
        self.ca = trustme.CA()
        self.server = self.ca.issue_cert("localhost", "127.0.0.1", "::1")
        der = ssl.PEM_cert_to_DER_cert(self.server.cert_chain_pems[0].bytes().decode())
        self.fingerprint = hashlib.sha256(der).digest()
        self.der = der

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server.configure_cert(ctx)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        return ctx


@pytest.fixture(scope="session")
def certs() -> Certs:
    return Certs()


@pytest.fixture
def unix_path() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="treadle-") as tmp:
        yield os.path.join(tmp, "s.sock")
