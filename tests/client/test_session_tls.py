"""HTTPS through ClientSession: the ``ssl`` argument reaches the connector per request."""

from __future__ import annotations

import hashlib
import ssl

import anyio
import pytest
import trustme

from treadle.backends import Fingerprint
from treadle.client._exceptions import ClientConnectorCertificateError, ServerFingerprintMismatch
from treadle.client._session import ClientSession

from ._peer_server import peer_server


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def leaf(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def server_ctx(leaf: trustme.LeafCert) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(ctx)
    return ctx


async def test_https_requests_and_the_ssl_argument(
    ca: trustme.CA, leaf: trustme.LeafCert, server_ctx: ssl.SSLContext
) -> None:
    der = ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())
    trusted = ssl.create_default_context()
    ca.configure_trust(trusted)
    with anyio.fail_after(20):
        async with peer_server(ssl=server_ctx) as server, ClientSession() as session:
            url = f"https://127.0.0.1:{server.port}/path?q=1"
            with pytest.raises(ClientConnectorCertificateError):
                await session.get(url)  # the test CA is not trusted by default
            async with session.get(url, ssl=trusted) as resp:
                assert await resp.read() == b"GET /path?q=1 "
            async with session.get(url, ssl=False) as resp:  # no verification
                assert resp.status == 200
            pin = Fingerprint(hashlib.sha256(der).digest())
            async with session.get(url, ssl=pin) as resp:
                assert resp.status == 200
            with pytest.raises(ServerFingerprintMismatch):
                await session.get(url, ssl=Fingerprint(b"\0" * 32))
