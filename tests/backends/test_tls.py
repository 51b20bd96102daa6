"""TLS client and server on every backend, with certificates made by trustme."""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from treadle.backends import Connection, Fingerprint, ServerFingerprintMismatch, get_backend

from .conftest import Certs, Echo, Recorder, Server, fd_count, serving, wait_for_fds

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.timeout(30),
    # A socket closed by the garbage collector instead of treadle is a leak.
    pytest.mark.filterwarnings("error::ResourceWarning"),
]


@pytest.fixture
async def tls_server(certs: Certs) -> AsyncIterator[Server]:
    async with serving(Echo, tls=certs.server_context()) as server:
        yield server


async def _connect(
    server: Server, client: Recorder, context: ssl.SSLContext, **kwargs: Any
) -> Connection:
    """A TLS client connection to ``server`` (closed by the test), within 10 s."""
    with anyio.fail_after(10):
        return await get_backend().connect_tcp(
            client, "127.0.0.1", server.port, ssl=context, **kwargs
        )


async def _round_trip(conn: Connection, client: Recorder, payload: bytes) -> None:
    with anyio.fail_after(10):
        conn.write(payload)
        assert await client.wait_bytes(len(payload)) == payload


async def test_tls_round_trip_and_peer_certificate(certs: Certs, tls_server: Server) -> None:
    client = Recorder()
    conn = await _connect(tls_server, client, certs.client_context(), server_hostname="localhost")
    await _round_trip(conn, client, b"secret" * 50_000)  # several TLS records
    tls = conn.ssl_object
    assert tls is not None
    assert tls.getpeercert(binary_form=True) == certs.der
    assert ("DNS", "localhost") in tls.getpeercert()["subjectAltName"]
    assert tls.version() in ("TLSv1.2", "TLSv1.3")
    assert tls.cipher() is not None
    assert not conn.can_write_eof()
    with pytest.raises(NotImplementedError):
        conn.write_eof()
    with anyio.fail_after(10):
        handler = await tls_server.first_handler()
        assert handler.conn is not None and handler.conn.ssl_object is not None
        conn.close()
        await conn.wait_closed()
        # A TLS connection closes on the peer's EOF (no half-close over TLS).
        await handler.lost.wait()
    assert client.exc is None


async def test_server_hostname_defaults_to_host(certs: Certs, tls_server: Server) -> None:
    client = Recorder()
    # "127.0.0.1" is in the certificate's SANs, so the default check passes.
    conn = await _connect(tls_server, client, certs.client_context())
    await _round_trip(conn, client, b"x")
    conn.abort()


async def test_hostname_mismatch_is_rejected(certs: Certs, tls_server: Server) -> None:
    before = fd_count()
    client = Recorder()
    with pytest.raises(ssl.SSLCertVerificationError):
        await _connect(
            tls_server, client, certs.client_context(), server_hostname="not-this-host.example"
        )
    assert client.calls == []  # the handler never saw the connection
    assert await wait_for_fds(get_backend(), before) <= before


async def test_untrusted_certificate_is_rejected(certs: Certs, tls_server: Server) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        await _connect(tls_server, Recorder(), ssl.create_default_context())
    # The server survives a failed handshake and keeps serving.
    client = Recorder()
    conn = await _connect(tls_server, client, certs.client_context())
    await _round_trip(conn, client, b"still up")
    conn.abort()


async def test_fingerprint_pinning(certs: Certs, tls_server: Server) -> None:
    # Pinning replaces CA trust: verification off, the pin decides.
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    client = Recorder()
    conn = await _connect(tls_server, client, insecure, verify_peer=Fingerprint(certs.fingerprint))
    await _round_trip(conn, client, b"pinned")
    conn.abort()

    before = fd_count()
    wrong = Fingerprint(hashlib.sha256(b"another certificate").digest())
    rejected = Recorder()
    with pytest.raises(ServerFingerprintMismatch) as info:
        await _connect(tls_server, rejected, insecure, verify_peer=wrong)
    assert info.value.got == certs.fingerprint
    assert info.value.expected == wrong.fingerprint
    assert rejected.calls == []
    assert await wait_for_fds(get_backend(), before) <= before


def test_fingerprint_rejects_weak_digests() -> None:
    with pytest.raises(ValueError, match="md5"):
        Fingerprint(hashlib.md5(b"x").digest())
    with pytest.raises(ValueError, match="sha1"):
        Fingerprint(hashlib.sha1(b"x").digest())
    with pytest.raises(ValueError, match="32-byte"):
        Fingerprint(b"short")
    assert Fingerprint.from_certificate(b"der").fingerprint == hashlib.sha256(b"der").digest()


async def test_tls_over_unix_socket(certs: Certs, unix_path: str) -> None:
    backend = get_backend()
    server = Server(Echo)
    listener = await backend.serve_unix(server, unix_path, ssl=certs.server_context())
    try:
        client = Recorder()
        with anyio.fail_after(10):
            conn = await backend.connect_unix(
                client, unix_path, ssl=certs.client_context(), server_hostname="localhost"
            )
        await _round_trip(conn, client, b"unix+tls")
        assert conn.ssl_object is not None
        conn.abort()
        with pytest.raises(ValueError, match="server_hostname"):
            await backend.connect_unix(Recorder(), unix_path, ssl=certs.client_context())
    finally:
        await listener.aclose()
