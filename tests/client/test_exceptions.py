"""The client exception tree matches aiohttp's: same names, same bases, same attributes."""

from __future__ import annotations

import errno
import inspect
import pickle
import ssl

import aiohttp
import aiohttp.client_exceptions as aio_exc
import pytest

from treadle.client import _exceptions as exc
from treadle.client._interfaces import ConnectionKey
from treadle.client._timeout import DEFAULT_TIMEOUT, ClientTimeout

KEY = ConnectionKey("example.com", 443, True)


def _ours() -> dict[str, type[BaseException]]:
    return {
        name: obj
        for name in exc.__all__
        if inspect.isclass(obj := getattr(exc, name)) and issubclass(obj, BaseException)
    }


def test_every_aiohttp_exception_exists() -> None:
    ours = set(exc.__all__)
    missing = [name for name in aio_exc.__all__ if name not in ours]
    assert missing == []


@pytest.mark.parametrize("name", sorted(_ours()))
def test_same_ancestry_as_aiohttp(name: str) -> None:
    """Every ancestor aiohttp declares (its own classes and builtins) is ours too."""
    theirs = getattr(aio_exc, name, None) or getattr(aiohttp, name)
    ours = _ours()[name]
    their_names = {c.__name__ for c in theirs.__mro__}
    our_names = {c.__name__ for c in ours.__mro__}
    assert their_names - our_names == set(), name
    # And builtins are the very same classes, so `except OSError` catches both alike.
    for base in theirs.__mro__:
        if base.__module__ in ("builtins", "ssl"):
            assert issubclass(ours, base), (name, base)


def test_connector_error_message_and_attributes() -> None:
    os_error = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    err = exc.ClientConnectorError(KEY, os_error)
    assert isinstance(err, OSError)
    assert (err.host, err.port, err.ssl, err.os_error) == ("example.com", 443, True, os_error)
    assert err.errno == errno.ECONNREFUSED
    assert str(err) == "Cannot connect to host example.com:443 ssl:default [Connection refused]"
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is exc.ClientConnectorError and again.host == "example.com"


def test_certificate_error_message() -> None:
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    err = exc.ClientConnectorCertificateError(KEY, cause)
    assert isinstance(err, ssl.CertificateError) and isinstance(err, exc.ClientSSLError)
    assert err.certificate_error is cause
    assert str(err).startswith("Cannot connect to host example.com:443 ssl:True [SSLCert")


def test_response_error_str_and_repr() -> None:
    info = exc.RequestInfo("http://h/x", "GET", {})
    assert info.real_url == "http://h/x"
    err = exc.ClientResponseError(info, (), status=404, message="Not Found")
    assert str(err) == "404, message='Not Found', url='http://h/x'"
    assert "status=404" in repr(err)
    with pytest.warns(DeprecationWarning):
        assert err.code == 404


def test_timeouts_are_builtin_timeout_errors() -> None:
    for cls in (exc.ServerTimeoutError, exc.ConnectionTimeoutError, exc.SocketTimeoutError):
        with pytest.raises(TimeoutError):
            raise cls("too slow")


def test_server_disconnected_default_message() -> None:
    assert exc.ServerDisconnectedError().message == "Server disconnected"
    assert str(exc.ServerDisconnectedError("gone")) == "gone"


def test_fingerprint_mismatch_names_the_host() -> None:
    err = exc.ServerFingerprintMismatch(b"\x01" * 32, b"\x02" * 32, "h", 1)
    assert "h:1" in str(err) and "0101" in str(err)


def test_invalid_url() -> None:
    err = exc.InvalidUrlRedirectClientError("http:///", "no host")
    assert isinstance(err, ValueError) and isinstance(err, exc.RedirectClientError)
    assert str(err) == "http:/// - no host" and err.url == "http:///"


def test_client_timeout_defaults() -> None:
    assert ClientTimeout(total=300, sock_connect=30) == DEFAULT_TIMEOUT
    assert ClientTimeout() == ClientTimeout(None, None, None, None, 5)
    with pytest.raises(AttributeError):
        DEFAULT_TIMEOUT.total = 1  # type: ignore[misc]
    ours = inspect.signature(ClientTimeout).parameters
    theirs = inspect.signature(aiohttp.ClientTimeout).parameters
    assert [(p.name, p.default) for p in ours.values()] == [
        (p.name, p.default) for p in theirs.values()
    ]
