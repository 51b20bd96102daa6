"""TLS through the connector: verification, pinning and the aiohttp error classes."""

from __future__ import annotations

import hashlib
import ssl
import warnings
from typing import Any

import anyio
import pytest
import trustme

from treadle.backends import Fingerprint, get_backend
from treadle.client._connector import TCPConnector
from treadle.client._exceptions import (
    ClientConnectorCertificateError,
    ClientConnectorSSLError,
    ClientSSLError,
    ServerFingerprintMismatch,
)
from treadle.client._interfaces import ConnectionKey

from ._peer_server import http_request, peer_server


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_ctx(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


@pytest.fixture(scope="module")
def client_ctx(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


async def get(connector: TCPConnector, key: ConnectionKey) -> tuple[int, bytes, object]:
    exchange = await connector.connect(key)
    try:
        exchange.send_head(http_request())
        await exchange.end_body()
        head = await exchange.read_head()
        body = await exchange.content.read()
        peer_cert = exchange.ssl_object.getpeercert(binary_form=True)
    finally:
        exchange.release()
    return head.status_code, body, peer_cert


def tls_key(port: int, ssl_value: object = True) -> ConnectionKey:
    return ConnectionKey("127.0.0.1", port, True, ssl_value)


async def test_verified_tls_and_reuse(
    server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext
) -> None:
    with anyio.fail_after(10):
        async with peer_server(ssl=server_ctx) as server, TCPConnector(ssl=client_ctx) as connector:
            for _ in range(3):
                status, body, _ = await get(connector, tls_key(server.port))
                assert (status, body) == (200, b"GET / ")
            assert server.accepted == 1


async def test_untrusted_certificate(server_ctx: ssl.SSLContext) -> None:
    with anyio.fail_after(10):
        async with peer_server(ssl=server_ctx) as server, TCPConnector() as connector:
            with pytest.raises(ClientConnectorCertificateError) as info:
                await connector.connect(tls_key(server.port))
            assert isinstance(info.value, ClientSSLError)
            assert isinstance(info.value.certificate_error, ssl.SSLCertVerificationError)
            assert f"127.0.0.1:{server.port}" in str(info.value)
            assert connector._pool.in_use == 0


async def test_tls_to_a_plain_server_is_an_ssl_error() -> None:
    class Plain:
        def connection_made(self, conn: Any) -> None:
            conn.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

        def data_received(self, data: bytes) -> None:
            pass

        def eof_received(self) -> None:
            pass

        def connection_lost(self, exc: BaseException | None) -> None:
            pass

    backend = get_backend()
    with anyio.fail_after(10):
        async with await backend.serve_tcp(Plain, "127.0.0.1", 0) as listener:
            port = listener.addresses[0][1]
            async with TCPConnector(ssl=False) as connector:
                with pytest.raises(ClientConnectorSSLError) as info:
                    await connector.connect(tls_key(port))
                assert isinstance(info.value, ssl.SSLError)
                assert f"127.0.0.1:{port}" in str(info.value)
                assert connector._pool.in_use == 0


async def test_fingerprint_pinning(server_ctx: ssl.SSLContext) -> None:
    with anyio.fail_after(10):
        async with peer_server(ssl=server_ctx) as server:
            async with TCPConnector(ssl=False) as connector:
                _, _, der = await get(connector, tls_key(server.port))
            assert isinstance(der, bytes)
            digest = hashlib.sha256(der).digest()
            async with TCPConnector(ssl=Fingerprint(digest)) as connector:
                status, _, _ = await get(connector, tls_key(server.port))
                assert status == 200
            # Per request (the key's ssl) overrides the connector's default.
            async with TCPConnector() as connector:
                status, _, _ = await get(connector, tls_key(server.port, Fingerprint(digest)))
                assert status == 200
                wrong = Fingerprint(b"\x00" * 32)
                with pytest.raises(ServerFingerprintMismatch) as info:
                    await connector.connect(tls_key(server.port, wrong))
                assert info.value.got == digest and info.value.expected == b"\x00" * 32
                assert (info.value.host, info.value.port) == ("127.0.0.1", server.port)
                assert connector._pool.in_use == 0
            # aiohttp's deprecated spelling still works.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                legacy = TCPConnector(fingerprint=digest)
            async with legacy:
                status, _, _ = await get(legacy, tls_key(server.port))
                assert status == 200


def test_exclusive_ssl_arguments() -> None:
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="exclusive"):
        TCPConnector(verify_ssl=False, ssl=Fingerprint(b"\x01" * 32))
