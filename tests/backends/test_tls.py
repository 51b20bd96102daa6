"""TLS client and server on every backend, with certificates made by trustme."""

from __future__ import annotations

import hashlib
import ssl

import anyio
import pytest

from treadle.backends import Fingerprint, ServerFingerprintMismatch, get_backend

from .conftest import Certs, Echo, Recorder, Server, fd_count, wait_for_fds

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.timeout(30),
    # A socket closed by the garbage collector instead of treadle is a leak.
    pytest.mark.filterwarnings("error::ResourceWarning"),
]


async def _tls_server(certs: Certs, factory: type[Recorder] = Echo) -> Server:
    server = Server(factory)
    server.listener = await get_backend().serve_tcp(
        server, "127.0.0.1", 0, ssl=certs.server_context()
    )
    return server


async def test_tls_round_trip_and_peer_certificate(certs: Certs) -> None:
    backend = get_backend()
    server = await _tls_server(certs)
    assert server.listener is not None
    try:
        client = Recorder()
        with anyio.fail_after(10):
            conn = await backend.connect_tcp(
                client,
                "127.0.0.1",
                server.port,
                ssl=certs.client_context(),
                server_hostname="localhost",
            )
            payload = b"secret" * 50_000  # several TLS records
            conn.write(payload)
            assert await client.wait_bytes(len(payload)) == payload
            tls = conn.ssl_object
            assert tls is not None
            assert tls.getpeercert(binary_form=True) == certs.der
            assert ("DNS", "localhost") in tls.getpeercert()["subjectAltName"]
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            assert tls.cipher() is not None
            assert not conn.can_write_eof()
            with pytest.raises(NotImplementedError):
                conn.write_eof()
            handler = await server.first_handler()
            assert handler.conn is not None and handler.conn.ssl_object is not None
            conn.close()
            await conn.wait_closed()
            # A TLS connection closes on the peer's EOF (no half-close over TLS).
            await handler.lost.wait()
        assert client.exc is None
    finally:
        await server.close()


async def test_server_hostname_defaults_to_host(certs: Certs) -> None:
    backend = get_backend()
    server = await _tls_server(certs)
    assert server.listener is not None
    try:
        client = Recorder()
        with anyio.fail_after(10):
            # "127.0.0.1" is in the certificate's SANs, so the default check passes.
            conn = await backend.connect_tcp(
                client, "127.0.0.1", server.port, ssl=certs.client_context()
            )
            conn.write(b"x")
            await client.wait_bytes(1)
        conn.abort()
    finally:
        await server.close()


async def test_hostname_mismatch_is_rejected(certs: Certs) -> None:
    backend = get_backend()
    server = await _tls_server(certs)
    assert server.listener is not None
    try:
        before = fd_count()
        client = Recorder()
        with anyio.fail_after(10), pytest.raises(ssl.SSLCertVerificationError):
            await backend.connect_tcp(
                client,
                "127.0.0.1",
                server.port,
                ssl=certs.client_context(),
                server_hostname="not-this-host.example",
            )
        assert client.calls == []  # the handler never saw the connection
        assert await wait_for_fds(backend, before) <= before
    finally:
        await server.close()


async def test_untrusted_certificate_is_rejected(certs: Certs) -> None:
    backend = get_backend()
    server = await _tls_server(certs)
    assert server.listener is not None
    try:
        with anyio.fail_after(10), pytest.raises(ssl.SSLCertVerificationError):
            await backend.connect_tcp(
                Recorder(), "127.0.0.1", server.port, ssl=ssl.create_default_context()
            )
        # The server survives a failed handshake and keeps serving.
        client = Recorder()
        with anyio.fail_after(10):
            conn = await backend.connect_tcp(
                client, "127.0.0.1", server.port, ssl=certs.client_context()
            )
            conn.write(b"still up")
            assert await client.wait_bytes(8) == b"still up"
        conn.abort()
    finally:
        await server.close()


async def test_fingerprint_pinning(certs: Certs) -> None:
    backend = get_backend()
    server = await _tls_server(certs)
    assert server.listener is not None
    # Pinning replaces CA trust: verification off, the pin decides.
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    try:
        client = Recorder()
        with anyio.fail_after(10):
            conn = await backend.connect_tcp(
                client,
                "127.0.0.1",
                server.port,
                ssl=insecure,
                verify_peer=Fingerprint(certs.fingerprint),
            )
            conn.write(b"pinned")
            assert await client.wait_bytes(6) == b"pinned"
        conn.abort()

        before = fd_count()
        wrong = Fingerprint(hashlib.sha256(b"another certificate").digest())
        rejected = Recorder()
        with anyio.fail_after(10), pytest.raises(ServerFingerprintMismatch) as info:
            await backend.connect_tcp(
                rejected, "127.0.0.1", server.port, ssl=insecure, verify_peer=wrong
            )
        assert info.value.got == certs.fingerprint
        assert info.value.expected == wrong.fingerprint
        assert rejected.calls == []
        assert await wait_for_fds(backend, before) <= before
    finally:
        await server.close()


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
            conn.write(b"unix+tls")
            assert await client.wait_bytes(8) == b"unix+tls"
            assert conn.ssl_object is not None
        conn.abort()
        with pytest.raises(ValueError, match="server_hostname"):
            await backend.connect_unix(Recorder(), unix_path, ssl=certs.client_context())
    finally:
        await listener.aclose()
