"""HTTP authentication for the client: ``BasicAuth`` and a Digest client middleware.

Basic is RFC 7617; Digest is RFC 7616 (MD5, SHA-256 and SHA-512-256 with their ``-sess``
variants, ``qop=auth`` and ``auth-int``, nonce counts, ``userhash``, ``stale`` nonces).
The digest arithmetic (:func:`digest_response`) and the challenge parser
(:func:`parse_challenges`) are pure functions, so they can be checked against the RFC's
example vectors without a network.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import inspect
import os
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple
from urllib.parse import quote

from yarl import URL

from ._exceptions import ClientError

__all__ = [
    "BasicAuth",
    "DigestAuthMiddleware",
    "digest_response",
    "parse_challenges",
    "supported_algorithms",
]


class _BasicAuthFields(NamedTuple):
    login: str
    password: str
    encoding: str


class BasicAuth(_BasicAuthFields):
    """``Authorization: Basic`` credentials (RFC 7617), aiohttp's ``BasicAuth`` tuple."""

    __slots__ = ()

    def __new__(cls, login: str, password: str = "", encoding: str = "latin1") -> BasicAuth:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            # RFC 7617 section 2: the user-id cannot contain a colon.
            raise ValueError('A ":" is not allowed in login (RFC 7617 section 2)')
        return super().__new__(cls, login, password, encoding)

    @classmethod
    def decode(cls, auth_header: str, encoding: str = "latin1") -> BasicAuth:
        """Parse an ``Authorization: Basic ...`` header value."""
        try:
            auth_type, encoded = auth_header.split(" ", 1)
        except ValueError:
            raise ValueError("Could not parse authorization header.") from None
        if auth_type.lower() != "basic":
            raise ValueError(f"Unknown authorization method {auth_type}")
        try:
            decoded = base64.b64decode(encoded.strip().encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise ValueError("Invalid base64 encoding.") from None
        try:
            text = decoded.decode(encoding)
        except UnicodeDecodeError:
            raise ValueError(f"Credentials are not valid {encoding}.") from None
        login, sep, password = text.partition(":")
        if not sep:
            # The colon must be there; login and password may each be empty.
            raise ValueError("Invalid credentials.")
        return cls(login, password, encoding)

    @classmethod
    def from_url(cls, url: URL, *, encoding: str = "latin1") -> BasicAuth | None:
        """Credentials from a URL's userinfo, or None when it has none."""
        if not isinstance(url, URL):
            raise TypeError("url should be yarl.URL instance")
        if url.raw_user is None and url.raw_password is None:
            return None
        return cls(url.user or "", url.password or "", encoding)

    def encode(self) -> str:
        """The ``Authorization`` header value."""
        credentials = f"{self.login}:{self.password}".encode(self.encoding)
        return "Basic " + base64.b64encode(credentials).decode("ascii")


# -- Digest (RFC 7616) ----------------------------------------------------------------

# RFC 7616 section 6.1 registry, plus the session variants (section 3.4.2).
_HASHES: dict[str, str] = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


def _hash_name(algorithm: str) -> str | None:
    base = algorithm.upper().removesuffix("-SESS")
    name = _HASHES.get(base)
    if name is None:
        return None
    try:
        hashlib.new(name)
    except ValueError:  # SHA-512/256 depends on the OpenSSL build
        return None
    return name


def supported_algorithms() -> tuple[str, ...]:
    """The algorithms this Python can compute, in the server-facing spelling."""
    names = [n for n in _HASHES if _hash_name(n) is not None]
    return tuple(names + [f"{n}-sess" for n in names])


def digest_response(
    *,
    algorithm: str,
    username: str,
    password: str,
    realm: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None = None,
    nc: str = "00000001",
    cnonce: str = "",
    body: bytes = b"",
) -> str:
    """The ``response`` value of RFC 7616 section 3.4.1, as lowercase hex.

    ``qop=None`` is the RFC 2069 form (no nonce count or client nonce); ``auth-int``
    hashes ``body`` into A2 (section 3.4.3).
    """
    name = _hash_name(algorithm)
    if name is None:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")

    def h(data: str | bytes) -> str:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        return hashlib.new(name, raw).hexdigest()

    a1 = f"{username}:{realm}:{password}"
    if algorithm.upper().endswith("-SESS"):
        a1 = f"{h(a1)}:{nonce}:{cnonce}"
    a2 = f"{method}:{uri}"
    if qop == "auth-int":
        a2 = f"{a2}:{h(body)}"
    elif qop not in (None, "auth"):
        raise ValueError(f"unsupported digest qop {qop!r}")
    if qop is None:
        return h(f"{h(a1)}:{nonce}:{h(a2)}")
    return h(f"{h(a1)}:{nonce}:{nc}:{cnonce}:{qop}:{h(a2)}")


def _skip_ows(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in " \t":
        i += 1
    return i


_TOKEN_STOP = frozenset(' \t,="')


def _read_token(text: str, i: int) -> tuple[str, int]:
    start = i
    n = len(text)
    while i < n and text[i] not in _TOKEN_STOP:
        i += 1
    return text[start:i], i


def _read_quoted(text: str, i: int) -> tuple[str, int]:
    """A quoted-string starting at the opening quote (RFC 9110 section 5.6.4)."""
    out: list[str] = []
    i += 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise ValueError("unterminated quoted-string in authentication challenge")


def parse_challenges(header: str) -> list[tuple[str, dict[str, str]]]:
    """Split a ``WWW-Authenticate`` value into ``(scheme, params)`` (RFC 9110 11.6.1).

    One header may carry several challenges (``Basic realm="a", Digest ...``). Parameter
    names are lowercased; a token68 (RFC 9110 11.2) is returned as ``{"": token68}``.
    Linear in the length of the header; malformed text raises ``ValueError``.
    """
    challenges: list[tuple[str, dict[str, str]]] = []
    params: dict[str, str] = {}
    fresh = False  # just read a scheme, no comma since: a bare token is its token68
    i, n = 0, len(header)
    while True:
        i = _skip_ows(header, i)
        if i < n and header[i] == ",":
            fresh = False
            i += 1
            continue
        if i >= n:
            return challenges
        token, j = _read_token(header, i)
        if not token:
            raise ValueError(f"malformed authentication challenge at offset {i}")
        k = _skip_ows(header, j)
        if k < n and header[k] == "=":
            end = k
            while end < n and header[end] == "=":
                end += 1
            after = _skip_ows(header, end)
            if end - k >= 2 or after >= n or header[after] == ",":
                if not fresh or k != j:
                    raise ValueError(f"malformed authentication parameter {token!r}")
                params[""] = token + header[k:end]
                fresh = False
                i = end
                continue
            if not challenges or "" in params:
                raise ValueError(f"authentication parameter {token!r} outside a challenge")
            if header[after] == '"':
                value, i = _read_quoted(header, after)
            else:
                value, i = _read_token(header, after)
                if not value:
                    raise ValueError(f"authentication parameter {token!r} has no value")
            params.setdefault(token.lower(), value)
            fresh = False
            continue
        if fresh:
            params[""] = token
            fresh = False
        else:
            params = {}
            challenges.append((token, params))
            fresh = True
        i = j


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _body_bytes(request: Any) -> bytes:
    """The request body for ``qop=auth-int``, which hashes it (RFC 7616 section 3.4.3)."""
    body = getattr(request, "body", b"")
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    value = getattr(body, "value", None)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise ClientError(
        "Digest auth error: the server only offers qop=auth-int, which needs the body "
        "in memory (bytes, str, JSON or a form), not a stream"
    )


async def _release(response: Any) -> None:
    release = getattr(response, "release", None)
    if release is not None:
        result = release()
        if inspect.isawaitable(result):
            await result


_Handler = Callable[[Any], Awaitable[Any]]


class DigestAuthMiddleware:
    """A client middleware answering ``WWW-Authenticate: Digest`` challenges (RFC 7616).

    Use as ``ClientSession(middlewares=(DigestAuthMiddleware(login, password),))``. On a
    401 with a Digest challenge the request is sent once more with ``Authorization``.
    With ``preemptive=True`` later requests inside the challenge's protection space
    (its ``domain``, else the whole origin; section 3.3) carry ``Authorization`` from
    the start, with the nonce count incremented; a ``stale`` nonce or a new challenge
    still gets its one retry.
    """

    def __init__(self, login: str, password: str, preemptive: bool = True) -> None:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            raise ValueError('A ":" is not allowed in username (RFC 7616 section 3.4.1)')
        self._login = login
        self._password = password
        self._preemptive = preemptive
        self._challenge: dict[str, str] | None = None
        self._space: list[tuple[URL, str]] = []  # (origin, path prefix)
        self._nonce = ""
        self._nonce_count = 0

    async def __call__(self, request: Any, handler: _Handler) -> Any:
        send_now = self._preemptive and self._challenge is not None and self._in_space(request.url)
        for attempt in range(2):
            if attempt or send_now:
                request.headers["Authorization"] = self._authorization(request)
            response = await handler(request)
            if attempt or not self._take_challenge(response, request.url):
                return response
            await _release(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _in_space(self, url: URL) -> bool:
        origin = url.origin()
        path = url.raw_path
        for space_origin, prefix in self._space:
            if space_origin == origin and (
                path == prefix or path.startswith(prefix if prefix.endswith("/") else prefix + "/")
            ):
                return True
        return False

    def _take_challenge(self, response: Any, url: URL) -> bool:
        """Remember the first usable Digest challenge of a 401; False if there is none."""
        if response.status != 401:
            return False
        unsupported: list[str] = []
        for header in response.headers.getall("WWW-Authenticate", ()):
            try:
                challenges = parse_challenges(header)
            except ValueError:
                continue
            for scheme, params in challenges:
                if scheme.lower() != "digest" or "nonce" not in params:
                    continue
                algorithm = params.get("algorithm", "MD5")
                if _hash_name(algorithm) is None:
                    unsupported.append(algorithm)
                    continue
                self._use(params, url)
                return True
        if unsupported:
            raise ClientError(
                f"Digest auth error: unsupported hash algorithm {', '.join(unsupported)}; "
                f"supported: {', '.join(supported_algorithms())}"
            )
        return False

    def _use(self, params: dict[str, str], url: URL) -> None:
        self._challenge = params
        if params["nonce"] != self._nonce:
            self._nonce = params["nonce"]
            self._nonce_count = 0
        space: list[tuple[URL, str]] = []
        for uri in params.get("domain", "").split():
            try:
                target = url.join(URL(uri))
            except ValueError:
                continue
            if target.is_absolute():
                space.append((target.origin(), target.raw_path))
        self._space = space or [(url.origin(), "/")]

    def _authorization(self, request: Any) -> str:
        challenge = self._challenge
        assert challenge is not None
        realm = challenge.get("realm", "")
        nonce = challenge["nonce"]
        algorithm = challenge.get("algorithm", "MD5")
        offered = [q.strip().lower() for q in challenge.get("qop", "").split(",") if q.strip()]
        body = b""
        if not offered:
            qop: str | None = None  # RFC 2069 compatibility
        elif "auth" in offered:
            qop = "auth"
        elif "auth-int" in offered:
            qop = "auth-int"
            body = _body_bytes(request)
        else:
            raise ClientError(f"Digest auth error: unsupported qop {challenge['qop']!r}")
        self._nonce_count += 1
        nc = f"{self._nonce_count:08x}"
        cnonce = os.urandom(16).hex()
        uri = request.url.raw_path_qs
        response = digest_response(
            algorithm=algorithm,
            username=self._login,
            password=self._password,
            realm=realm,
            nonce=nonce,
            method=request.method,
            uri=uri,
            qop=qop,
            nc=nc,
            cnonce=cnonce,
            body=body,
        )
        fields = [self._username_field(challenge, algorithm, realm)]
        fields += [
            f"realm={_quote(realm)}",
            f"nonce={_quote(nonce)}",
            f"uri={_quote(uri)}",
            f"algorithm={algorithm}",
            f"response={_quote(response)}",
        ]
        if "opaque" in challenge:
            fields.append(f"opaque={_quote(challenge['opaque'])}")
        if qop is not None:
            fields += [f"qop={qop}", f"nc={nc}", f"cnonce={_quote(cnonce)}"]
        if challenge.get("userhash", "").lower() == "true":
            fields.append("userhash=true")
        return "Digest " + ", ".join(fields)

    def _username_field(self, challenge: dict[str, str], algorithm: str, realm: str) -> str:
        """``username`` as the server asked: hashed (section 3.4.4) or RFC 8187 encoded."""
        login = self._login
        if challenge.get("userhash", "").lower() == "true":
            name = _hash_name(algorithm)
            assert name is not None
            return "username=" + _quote(hashlib.new(name, f"{login}:{realm}".encode()).hexdigest())
        if login.isascii():
            return "username=" + _quote(login)
        return "username*=UTF-8''" + quote(login, safe="")
