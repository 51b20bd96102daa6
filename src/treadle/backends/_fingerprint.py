"""Certificate pinning: compare the peer certificate's SHA-256 digest to a pinned value."""

from __future__ import annotations

import hashlib
import hmac

from ._errors import ServerFingerprintMismatch
from ._interface import TLSInfo

__all__ = ["Fingerprint"]

_WEAK = {16: "md5", 20: "sha1"}


class Fingerprint:
    """aiohttp-compatible pin: ``Fingerprint(hashlib.sha256(der_cert).digest())``.

    Pass it as ``verify_peer=`` to ``connect_tcp``/``connect_unix``; ``check`` raises
    :class:`ServerFingerprintMismatch` when the peer presents another certificate.
    """

    __slots__ = ("_fingerprint",)

    def __init__(self, fingerprint: bytes) -> None:
        if len(fingerprint) in _WEAK:
            raise ValueError(
                f"{_WEAK[len(fingerprint)]} fingerprints are too weak; pin the sha256 digest "
                "(hashlib.sha256(der_certificate).digest())"
            )
        if len(fingerprint) != 32:
            raise ValueError(
                f"fingerprint must be a 32-byte sha256 digest, got {len(fingerprint)} bytes"
            )
        self._fingerprint = bytes(fingerprint)

    @classmethod
    def from_certificate(cls, der: bytes) -> Fingerprint:
        """Pin this DER-encoded certificate."""
        return cls(hashlib.sha256(der).digest())

    @property
    def fingerprint(self) -> bytes:
        return self._fingerprint

    def check(self, ssl_object: TLSInfo) -> None:
        der = ssl_object.getpeercert(binary_form=True)
        if not der:
            raise ServerFingerprintMismatch(self._fingerprint, b"")
        got = hashlib.sha256(der).digest()
        if not hmac.compare_digest(got, self._fingerprint):
            raise ServerFingerprintMismatch(self._fingerprint, got)

    def __repr__(self) -> str:
        return f"Fingerprint({self._fingerprint.hex()})"
