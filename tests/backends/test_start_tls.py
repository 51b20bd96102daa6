"""backend.start_tls: TLS over an established plain connection, both sides, every backend."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
import trustme

from treadle.backends import Connection, Fingerprint, ServerFingerprintMismatch, get_backend


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def contexts(ca: trustme.CA) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


class Recorder:
    def __init__(self) -> None:
        self.conn: Connection | None = None
        self.made = 0
        self.data = bytearray()
        self.eof = False
        self.lost = anyio.Event()
        self.changed = anyio.Event()

    def connection_made(self, conn: Connection) -> None:
        self.conn = conn
        self.made += 1

    def data_received(self, data: bytes) -> None:
        self.data += data
        self.changed.set()

    def eof_received(self) -> None:
        self.eof = True
        self.changed.set()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost.set()
        self.changed.set()

    async def wait_for(self, size: int) -> None:
        while len(self.data) < size:
            self.changed = anyio.Event()
            await self.changed.wait()


class StartTLSServer:
    """Plain until ``STARTTLS\\n``, then answers ``OK\\n`` and echoes over TLS."""

    def __init__(self, ctx: ssl.SSLContext, group: Any) -> None:
        self.ctx = ctx
        self.group = group
        self.conn: Connection | None = None
        self.tls: Connection | None = None
        self.buf = b""

    def connection_made(self, conn: Connection) -> None:
        if self.conn is None:
            self.conn = conn
        else:
            self.tls = conn  # start_tls announces the TLS connection

    def data_received(self, data: bytes) -> None:
        if self.tls is not None:
            self.tls.write(data)
            return
        self.buf += data
        if self.buf == b"STARTTLS\n":
            assert self.conn is not None
            self.conn.write(b"OK\n")
            self.conn.pause_reading()  # the handshake resumes it
            self.group.start_soon(self.upgrade)

    async def upgrade(self) -> None:
        assert self.conn is not None
        try:
            tls = await get_backend().start_tls(self.conn, self.ctx, server_side=True)
            assert tls is self.tls
        except (OSError, ssl.SSLError):
            pass

    def eof_received(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def connection_lost(self, exc: BaseException | None) -> None:
        pass


@contextlib.asynccontextmanager
async def starttls_server(server_ctx: ssl.SSLContext) -> AsyncIterator[int]:
    """A listening ``StartTLSServer`` on loopback: yields its port, stops it after."""
    backend = get_backend()
    async with backend.task_group() as group:
        listener = await backend.serve_tcp(
            lambda: StartTLSServer(server_ctx, group), "127.0.0.1", 0
        )
        async with listener:
            yield listener.addresses[0][1]
        group.cancel()


async def open_plain(port: int) -> tuple[Recorder, Connection]:
    backend = get_backend()
    rec = Recorder()
    conn = await backend.connect_tcp(rec, "127.0.0.1", port)
    conn.write(b"STARTTLS\n")
    await rec.wait_for(3)
    assert bytes(rec.data) == b"OK\n"
    rec.data.clear()
    return rec, conn


async def test_start_tls_round_trip(contexts: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_ctx, client_ctx = contexts
    backend = get_backend()
    with anyio.fail_after(20):
        async with starttls_server(server_ctx) as port:
            rec, conn = await open_plain(port)
            tls = await backend.start_tls(conn, client_ctx, server_hostname="localhost")
            assert tls.ssl_object is not None
            assert tls.ssl_object.version() is not None
            assert tls.ssl_object.getpeercert(binary_form=True)
            assert tls.handler is rec and tls.peername == conn.peername
            assert rec.conn is tls and rec.made == 2
            payload = bytes(range(256)) * 4096  # 1 MiB, more than any buffer
            tls.write(payload)
            await tls.drain()
            await rec.wait_for(len(payload))
            assert bytes(rec.data) == payload
            tls.close()
            with anyio.fail_after(5):
                await rec.lost.wait()
                await tls.wait_closed()


async def test_start_tls_flow_control(contexts: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_ctx, client_ctx = contexts
    backend = get_backend()
    with anyio.fail_after(20):
        async with starttls_server(server_ctx) as port:
            rec, conn = await open_plain(port)
            tls = await backend.start_tls(conn, client_ctx, server_hostname="localhost")
            tls.pause_reading()
            assert not tls.is_reading()
            tls.write(b"x" * 100_000)
            await anyio.sleep(0.05)
            assert len(rec.data) == 0  # nothing delivered while paused
            tls.resume_reading()
            await rec.wait_for(100_000)
            tls.abort()
            await rec.lost.wait()


async def test_start_tls_failures_abort_the_connection(
    contexts: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_ctx, _ = contexts
    backend = get_backend()
    with anyio.fail_after(20):
        async with starttls_server(server_ctx) as port:
            # Untrusted certificate: the default context refuses it.
            rec, conn = await open_plain(port)
            with pytest.raises(ssl.SSLCertVerificationError):
                await backend.start_tls(
                    conn, ssl.create_default_context(), server_hostname="localhost"
                )
            await rec.lost.wait()
            # Pinning the wrong certificate.
            rec, conn = await open_plain(port)
            loose = ssl.create_default_context()
            loose.check_hostname = False
            loose.verify_mode = ssl.CERT_NONE
            with pytest.raises(ServerFingerprintMismatch):
                await backend.start_tls(conn, loose, verify_peer=Fingerprint(b"\x00" * 32))
            await rec.lost.wait()
            # Cancelled in the middle of the handshake.
            rec, conn = await open_plain(port)
            with anyio.move_on_after(0):
                await backend.start_tls(conn, loose)
            await rec.lost.wait()
