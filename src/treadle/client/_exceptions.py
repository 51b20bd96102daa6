"""The client's exception tree, with aiohttp 3.x's names, bases and attributes.

Code written against aiohttp catches these by class (``except
aiohttp.ClientConnectorError``, ``except aiohttp.ServerTimeoutError``), so the hierarchy
is the contract: every class keeps aiohttp's bases, including the builtin ones
(``ClientOSError`` is an ``OSError``, ``ServerTimeoutError`` a ``TimeoutError``,
``InvalidURL`` a ``ValueError``, the TLS errors ``ssl.SSLError`` /
``ssl.CertificateError``). Messages name the host or URL and the cause.
"""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from ._interfaces import ConnectionKey

__all__ = [
    "ClientConnectionError",
    "ClientConnectionResetError",
    "ClientConnectorCertificateError",
    "ClientConnectorDNSError",
    "ClientConnectorError",
    "ClientConnectorSSLError",
    "ClientError",
    "ClientHttpProxyError",
    "ClientOSError",
    "ClientPayloadError",
    "ClientProxyConnectionError",
    "ClientResponseError",
    "ClientSSLError",
    "ConnectionTimeoutError",
    "ContentTypeError",
    "InvalidURL",
    "InvalidUrlClientError",
    "InvalidUrlRedirectClientError",
    "NonHttpUrlClientError",
    "NonHttpUrlRedirectClientError",
    "RedirectClientError",
    "RequestInfo",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "ServerFingerprintMismatch",
    "ServerTimeoutError",
    "SocketTimeoutError",
    "TooManyRedirects",
    "UnixClientConnectorError",
    "UploadAbortedError",
    "WSMessageTypeError",
    "WSServerHandshakeError",
]

_UNSET: Any = object()


class _RequestInfo(NamedTuple):
    url: Any
    method: str
    headers: Any
    real_url: Any


class RequestInfo(_RequestInfo):
    """What a response error says about its request: ``url, method, headers, real_url``.

    ``real_url`` keeps the fragment that ``url`` drops; it defaults to ``url`` (aiohttp
    made it optional for backwards compatibility).
    """

    __slots__ = ()

    def __new__(cls, url: Any, method: str, headers: Any, real_url: Any = _UNSET) -> RequestInfo:
        return tuple.__new__(cls, (url, method, headers, url if real_url is _UNSET else real_url))


class ClientError(Exception):
    """Base class of every client error."""


# -- errors that come with a response --------------------------------------------------


class ClientResponseError(ClientError):
    """An error tied to a response: its ``status``, ``message``, ``headers``, ``history``.

    ``raise_for_status()`` raises it; so do the redirect rules, a failed proxy CONNECT
    and a failed WebSocket handshake (subclasses).
    """

    def __init__(
        self,
        request_info: RequestInfo,
        history: tuple[Any, ...] = (),
        *,
        code: int | None = None,
        status: int | None = None,
        message: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.request_info = request_info
        if code is not None:
            if status is not None:
                raise ValueError(
                    "Both code and status arguments are provided; "
                    "code is deprecated, use status instead"
                )
            warnings.warn(
                "code argument is deprecated, use status instead", DeprecationWarning, stacklevel=2
            )
        self.status = status if status is not None else code if code is not None else 0
        self.message = message
        self.headers = headers
        self.history = history
        self.args = (request_info, history)

    def __str__(self) -> str:
        url = getattr(self.request_info, "real_url", None)
        return f"{self.status}, message={self.message!r}, url={str(url)!r}"

    def __repr__(self) -> str:
        args = f"{self.request_info!r}, {self.history!r}"
        if self.status != 0:
            args += f", status={self.status!r}"
        if self.message != "":
            args += f", message={self.message!r}"
        if self.headers is not None:
            args += f", headers={self.headers!r}"
        return f"{type(self).__name__}({args})"

    @property
    def code(self) -> int:
        warnings.warn(
            "code property is deprecated, use status instead", DeprecationWarning, stacklevel=2
        )
        return self.status

    @code.setter
    def code(self, value: int) -> None:
        warnings.warn(
            "code property is deprecated, use status instead", DeprecationWarning, stacklevel=2
        )
        self.status = value


class ContentTypeError(ClientResponseError):
    """``response.json()`` got a body whose Content-Type is not JSON."""


class WSServerHandshakeError(ClientResponseError):
    """The server refused or botched the WebSocket handshake (RFC 6455 4.1)."""


class ClientHttpProxyError(ClientResponseError):
    """The proxy answered ``CONNECT`` with a status other than 2xx."""


class TooManyRedirects(ClientResponseError):
    """More redirects than ``max_redirects``."""


# -- connection errors -------------------------------------------------------------------


class ClientConnectionError(ClientError):
    """Base class of socket-level errors (connecting, reading, writing)."""


class ClientConnectionResetError(ClientConnectionError, ConnectionResetError):
    """The connection was reset while the request was being sent or read."""


class ClientOSError(ClientConnectionError, OSError):
    """An ``OSError`` from the socket, as a client error."""


class ClientConnectorError(ClientOSError):
    """No connection could be made to ``host:port`` (refused, unreachable, DNS...).

    ``os_error`` is the cause; ``host``, ``port`` and ``ssl`` come from the connection
    key.
    """

    def __init__(self, connection_key: ConnectionKey, os_error: OSError) -> None:
        self._conn_key = connection_key
        self._os_error = os_error
        super().__init__(os_error.errno, os_error.strerror)
        self.args = (connection_key, os_error)

    @property
    def os_error(self) -> OSError:
        return self._os_error

    @property
    def host(self) -> str:
        return self._conn_key.host

    @property
    def port(self) -> int | None:
        return self._conn_key.port

    @property
    def ssl(self) -> Any:
        return self._conn_key.ssl

    def __str__(self) -> str:
        ssl_text = "default" if self.ssl is True else self.ssl
        cause = self.strerror or str(self._os_error) or type(self._os_error).__name__
        return f"Cannot connect to host {self.host}:{self.port} ssl:{ssl_text} [{cause}]"

    # OSError.__reduce__ rebuilds from (errno, strerror), which __init__ does not take.
    __reduce__ = BaseException.__reduce__


class ClientConnectorDNSError(ClientConnectorError):
    """The host name could not be resolved."""


class ClientProxyConnectionError(ClientConnectorError):
    """No connection could be made to the proxy."""


class UnixClientConnectorError(ClientConnectorError):
    """No connection could be made to the Unix socket at ``path``."""

    def __init__(self, path: str, connection_key: ConnectionKey, os_error: OSError) -> None:
        self._path = path
        super().__init__(connection_key, os_error)

    @property
    def path(self) -> str:
        return self._path

    def __str__(self) -> str:
        ssl_text = "default" if self.ssl is True else self.ssl
        cause = self.strerror or str(self.os_error) or type(self.os_error).__name__
        return f"Cannot connect to unix socket {self.path} ssl:{ssl_text} [{cause}]"


class ClientSSLError(ClientConnectorError):
    """Base class of TLS failures while connecting."""


class ClientConnectorSSLError(ClientSSLError, ssl.SSLError):
    """The TLS handshake failed (protocol or cipher mismatch, a non-TLS peer...)."""


class ClientConnectorCertificateError(ClientSSLError, ssl.CertificateError):
    """The server certificate did not verify (untrusted issuer, wrong host name...)."""

    def __init__(self, connection_key: ConnectionKey, certificate_error: Exception) -> None:
        os_error = certificate_error if isinstance(certificate_error, OSError) else OSError()
        super().__init__(connection_key, os_error)
        self._certificate_error = certificate_error
        self.args = (connection_key, certificate_error)

    @property
    def certificate_error(self) -> Exception:
        return self._certificate_error

    @property
    def ssl(self) -> bool:
        return self._conn_key.is_ssl

    def __str__(self) -> str:
        error = self._certificate_error
        return (
            f"Cannot connect to host {self.host}:{self.port} ssl:{self.ssl} "
            f"[{type(error).__name__}: {error.args}]"
        )


class ServerConnectionError(ClientConnectionError):
    """Base class of errors on an established connection to the server."""


class ServerDisconnectedError(ServerConnectionError):
    """The server closed the connection before the response was complete."""

    def __init__(self, message: object = None) -> None:
        if message is None:
            message = "Server disconnected"
        self.args = (message,)
        self.message = message


class ServerTimeoutError(ServerConnectionError, TimeoutError):
    """A timeout of ``ClientTimeout`` passed (also a builtin ``TimeoutError``)."""


class ConnectionTimeoutError(ServerTimeoutError):
    """``ClientTimeout.connect`` or ``sock_connect`` passed while connecting."""


class SocketTimeoutError(ServerTimeoutError):
    """``ClientTimeout.sock_read`` passed with no data from the server."""


class ServerFingerprintMismatch(ServerConnectionError):
    """The server certificate does not hash to the pinned ``Fingerprint``."""

    def __init__(self, expected: bytes, got: bytes, host: str, port: int) -> None:
        self.expected = expected
        self.got = got
        self.host = host
        self.port = port
        self.args = (expected, got, host, port)

    def __str__(self) -> str:
        return (
            f"TLS certificate fingerprint mismatch for {self.host}:{self.port}: "
            f"expected {self.expected.hex()}, got {self.got.hex()}"
        )

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} expected={self.expected!r} got={self.got!r} "
            f"host={self.host!r} port={self.port!r}>"
        )


# -- body and URL errors -----------------------------------------------------------------


class ClientPayloadError(ClientError):
    """The response body was broken: cut short, badly chunked or badly compressed."""


class UploadAbortedError(ClientError):
    """The request body was never fully sent."""


class InvalidURL(ClientError, ValueError):
    """The URL cannot be requested (no host, bad port...); ``description`` says why."""

    def __init__(self, url: Any, description: str | None = None) -> None:
        self._url = url
        self._description = description
        if description:
            super().__init__(url, description)
        else:
            super().__init__(url)

    @property
    def url(self) -> Any:
        return self._url

    @property
    def description(self) -> str | None:
        return self._description

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self}>"

    def __str__(self) -> str:
        if self._description:
            return f"{self._url} - {self._description}"
        return str(self._url)


class InvalidUrlClientError(InvalidURL):
    """The request URL is invalid."""


class RedirectClientError(ClientError):
    """A redirect could not be followed."""


class NonHttpUrlClientError(ClientError):
    """The request URL's scheme is not http, https, ws or wss."""


class InvalidUrlRedirectClientError(InvalidUrlClientError, RedirectClientError):
    """A redirect's Location is not a valid URL."""


class NonHttpUrlRedirectClientError(NonHttpUrlClientError, RedirectClientError):
    """A redirect points to a non-HTTP scheme."""


class WSMessageTypeError(TypeError):
    """A WebSocket message was not of the type asked for (``receive_str`` got bytes...)."""
