"""Digest auth (RFC 7616): the pure computation against the RFC's vectors, the challenge
parser, and the middleware's retry/preemptive/nonce-count behaviour against a handler
that verifies what it receives."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict
from yarl import URL

from treadle.client._auth import (
    DigestAuthMiddleware,
    digest_response,
    parse_challenges,
    supported_algorithms,
)
from treadle.client._exceptions import ClientError

HAS_SHA512_256 = "SHA-512-256" in supported_algorithms()

# RFC 7616 section 3.9.1.
RFC_3_9_1 = {
    "username": "Mufasa",
    "password": "Circle of Life",
    "realm": "http-auth@example.org",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "method": "GET",
    "uri": "/dir/index.html",
    "qop": "auth",
    "nc": "00000001",
    "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
}


def test_rfc7616_md5_vector() -> None:
    assert digest_response(algorithm="MD5", **RFC_3_9_1) == "8ca523f5e9506fed4657c9700eebdbec"


def test_rfc7616_sha256_vector() -> None:
    assert (
        digest_response(algorithm="SHA-256", **RFC_3_9_1)
        == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    )


@pytest.mark.skipif(not HAS_SHA512_256, reason="OpenSSL without SHA-512/256")
def test_rfc7616_sha512_256_vector_as_corrected_by_erratum_4897() -> None:
    # Section 3.9.2's printed username hash and response do not follow from its inputs;
    # erratum 4897 gives these.
    username = "J\u00e4s\u00f8n Doe"
    realm = "api@example.org"
    assert (
        hashlib.new("sha512_256", f"{username}:{realm}".encode()).hexdigest()
        == "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b"
    )
    assert (
        digest_response(
            algorithm="SHA-512-256",
            username=username,
            password="Secret, or not?",
            realm=realm,
            nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
            method="GET",
            uri="/doe.json",
            qop="auth",
            nc="00000001",
            cnonce="NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
        )
        == "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"
    )


def test_rfc2617_md5_vector() -> None:
    # RFC 2617 section 3.5 (same arithmetic as RFC 7616's MD5 with qop=auth).
    assert (
        digest_response(
            algorithm="MD5",
            username="Mufasa",
            password="Circle Of Life",
            realm="testrealm@host.com",
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
            method="GET",
            uri="/dir/index.html",
            qop="auth",
            nc="00000001",
            cnonce="0a4f113b",
        )
        == "6629fae49393a05397450978507c4ef1"
    )


def _md5(text: str | bytes) -> str:
    return hashlib.md5(text.encode() if isinstance(text, str) else text).hexdigest()


def test_sess_auth_int_and_rfc2069_forms_follow_the_rfc_formulas() -> None:
    base = {k: v for k, v in RFC_3_9_1.items() if k not in ("qop",)}
    ha1 = _md5(
        f"{_md5('Mufasa:http-auth@example.org:Circle of Life')}:{base['nonce']}:{base['cnonce']}"
    )
    ha2 = _md5("GET:/dir/index.html")
    assert digest_response(algorithm="MD5-sess", qop="auth", **base) == _md5(
        f"{ha1}:{base['nonce']}:00000001:{base['cnonce']}:auth:{ha2}"
    )
    plain_ha1 = _md5("Mufasa:http-auth@example.org:Circle of Life")
    ha2_int = _md5(f"GET:/dir/index.html:{_md5(b'body')}")
    assert digest_response(algorithm="md5", qop="auth-int", body=b"body", **base) == _md5(
        f"{plain_ha1}:{base['nonce']}:00000001:{base['cnonce']}:auth-int:{ha2_int}"
    )
    assert digest_response(algorithm="MD5", qop=None, **base) == _md5(
        f"{plain_ha1}:{base['nonce']}:{ha2}"
    )


def test_unknown_algorithm_and_qop_are_refused() -> None:
    with pytest.raises(ValueError, match="algorithm"):
        digest_response(algorithm="SHA-1", **RFC_3_9_1)
    with pytest.raises(ValueError, match="qop"):
        digest_response(algorithm="MD5", **{**RFC_3_9_1, "qop": "auth-conf"})


def test_supported_algorithms_lists_sess_variants() -> None:
    algorithms = supported_algorithms()
    assert {"MD5", "MD5-sess", "SHA-256", "SHA-256-sess"} <= set(algorithms)


# -- challenge parser -------------------------------------------------------------------


def test_parse_several_challenges_in_one_header() -> None:
    header = (
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", '
        'Basic realm="simple", Digest realm="d", qop="auth, auth-int", nonce=abc'
    )
    assert parse_challenges(header) == [
        ("Newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}),
        ("Basic", {"realm": "simple"}),
        ("Digest", {"realm": "d", "qop": "auth, auth-int", "nonce": "abc"}),
    ]


def test_parse_token68_and_bare_schemes() -> None:
    assert parse_challenges("Negotiate YII/+ab==") == [("Negotiate", {"": "YII/+ab=="})]
    assert parse_challenges("Negotiate a=, Bearer") == [
        ("Negotiate", {"": "a="}),
        ("Bearer", {}),
    ]
    assert parse_challenges("Bearer, Basic realm=x") == [("Bearer", {}), ("Basic", {"realm": "x"})]
    assert parse_challenges(" ,, ") == []


def test_parse_names_are_lowercased_and_first_value_wins() -> None:
    assert parse_challenges('Digest REALM="a", realm="b", Nonce = n') == [
        ("Digest", {"realm": "a", "nonce": "n"})
    ]


@pytest.mark.parametrize(
    "header",
    [
        'Digest realm="unterminated',
        "realm=x",
        'Digest realm="a", nonce=',
        'Digest ="x"',
        "Basic x, y==",
    ],
)
def test_parse_malformed_raises_value_error(header: str) -> None:
    with pytest.raises(ValueError):
        parse_challenges(header)


@given(st.text(max_size=200))
def test_parse_never_crashes_otherwise(header: str) -> None:
    try:
        result = parse_challenges(header)
    except ValueError:
        return
    assert all(scheme for scheme, _ in result)


def test_parse_is_linear_on_hostile_input() -> None:
    # A regex with nested quantifiers would take forever here; the scanner is linear.
    assert parse_challenges("Digest " + 'a="' + "\\x" * 50_000 + '"')[0][1]["a"] == "x" * 50_000


# -- the middleware against a verifying handler ------------------------------------------


@dataclass
class FakeRequest:
    method: str
    url: URL
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)
    body: Any = b""


@dataclass
class FakeResponse:
    status: int
    headers: CIMultiDict[str]
    released: bool = False

    def release(self) -> None:
        self.released = True


class DigestServer:
    """Demands Digest auth, checks each answer with the RFC formula, counts nonces."""

    def __init__(
        self,
        *,
        algorithm: str = "MD5",
        qop: str | None = "auth",
        domain: str | None = None,
        userhash: bool = False,
        password: str = "secret",
    ) -> None:
        self.algorithm = algorithm
        self.qop = qop
        self.domain = domain
        self.userhash = userhash
        self.password = password
        self.nonce = "n0nce"
        self.seen_nc: list[str] = []
        self.requests: list[FakeRequest] = []
        self.responses: list[FakeResponse] = []

    def challenge(self, stale: bool = False) -> str:
        parts = ['Digest realm="r@x"', f'nonce="{self.nonce}"', f"algorithm={self.algorithm}"]
        parts.append('opaque="op"')
        if self.qop:
            parts.append(f'qop="{self.qop}"')
        if self.domain:
            parts.append(f'domain="{self.domain}"')
        if self.userhash:
            parts.append("userhash=true")
        if stale:
            parts.append("stale=true")
        return ", ".join(parts)

    async def __call__(self, request: FakeRequest) -> FakeResponse:
        self.requests.append(FakeRequest(request.method, request.url, request.headers.copy()))
        status = 200 if self.verify(request) else 401
        headers: CIMultiDict[str] = CIMultiDict()
        if status == 401:
            headers.add("WWW-Authenticate", 'Basic realm="other"')
            headers.add("WWW-Authenticate", self.challenge())
        response = FakeResponse(status, headers)
        self.responses.append(response)
        return response

    def verify(self, request: FakeRequest) -> bool:
        value = request.headers.get("Authorization")
        if value is None:
            return False
        [(scheme, p)] = parse_challenges(value)
        assert scheme == "Digest"
        assert p["uri"] == request.url.raw_path_qs and p["opaque"] == "op"
        assert p["algorithm"] == self.algorithm
        if p["nonce"] != self.nonce:
            return False
        username = "user"
        if self.userhash:
            assert p["userhash"] == "true"
            name = {"MD5": "md5", "SHA-256": "sha256"}[self.algorithm.removesuffix("-sess")]
            assert p["username"] == hashlib.new(name, b"user:r@x").hexdigest()
        else:
            assert p["username"] == username
        qop = p.get("qop")
        if qop:
            self.seen_nc.append(p["nc"])
        expected = digest_response(
            algorithm=self.algorithm,
            username=username,
            password=self.password,
            realm="r@x",
            nonce=self.nonce,
            method=request.method,
            uri=p["uri"],
            qop=qop,
            nc=p.get("nc", ""),
            cnonce=p.get("cnonce", ""),
            body=request.body if isinstance(request.body, bytes) else b"",
        )
        return p["response"] == expected


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess"])
async def test_401_is_answered_once_and_later_requests_are_preemptive(algorithm: str) -> None:
    server = DigestServer(algorithm=algorithm)
    auth = DigestAuthMiddleware("user", "secret")
    url = URL("http://example.com/a/b?x=1")
    first = await auth(FakeRequest("GET", url), server)
    assert first.status == 200
    assert [r.status for r in server.responses] == [401, 200]
    assert server.responses[0].released  # the 401 went back to the pool
    assert "Authorization" not in server.requests[0].headers

    second = await auth(FakeRequest("POST", URL("http://example.com/other")), server)
    assert second.status == 200
    assert len(server.requests) == 3  # preemptive: no second 401
    assert server.seen_nc == ["00000001", "00000002"]
    cnonces = [
        parse_challenges(r.headers["Authorization"])[0][1]["cnonce"] for r in server.requests[1:]
    ]
    assert cnonces[0] != cnonces[1]


async def test_not_preemptive_waits_for_each_challenge() -> None:
    server = DigestServer()
    auth = DigestAuthMiddleware("user", "secret", preemptive=False)
    for _ in range(2):
        assert (await auth(FakeRequest("GET", URL("http://example.com/")), server)).status == 200
    assert [r.status for r in server.responses] == [401, 200, 401, 200]


async def test_wrong_password_gives_up_after_one_retry() -> None:
    server = DigestServer(password="other")
    auth = DigestAuthMiddleware("user", "secret")
    response = await auth(FakeRequest("GET", URL("http://example.com/")), server)
    assert response.status == 401
    assert len(server.requests) == 2


async def test_new_nonce_resets_the_count_and_is_retried() -> None:
    server = DigestServer()
    auth = DigestAuthMiddleware("user", "secret")
    await auth(FakeRequest("GET", URL("http://example.com/")), server)
    await auth(FakeRequest("GET", URL("http://example.com/")), server)
    server.nonce = "fresh"  # the preemptive header now carries a stale nonce
    response = await auth(FakeRequest("GET", URL("http://example.com/")), server)
    assert response.status == 200
    assert [r.status for r in server.responses] == [401, 200, 200, 401, 200]
    assert server.seen_nc == ["00000001", "00000002", "00000001"]


async def test_protection_space_from_domain() -> None:
    server = DigestServer(domain="/api /v2/")
    auth = DigestAuthMiddleware("user", "secret")
    await auth(FakeRequest("GET", URL("http://example.com/api/x")), server)
    for path, preemptive in [
        ("/api", True),
        ("/api/deeper", True),
        ("/apix", False),  # a prefix at a segment boundary only
        ("/v2/a", True),
        ("/other", False),
    ]:
        before = len(server.requests)
        await auth(FakeRequest("GET", URL("http://example.com" + path)), server)
        assert (len(server.requests) - before == 1) is preemptive, path
    # Another origin is never sent credentials up front.
    before = len(server.requests)
    await auth(FakeRequest("GET", URL("http://other.example/api/x")), server)
    assert "Authorization" not in server.requests[before].headers


async def test_no_domain_means_whole_origin() -> None:
    server = DigestServer()
    auth = DigestAuthMiddleware("user", "secret")
    await auth(FakeRequest("GET", URL("http://example.com/a")), server)
    await auth(FakeRequest("GET", URL("http://example.com/zzz")), server)
    await auth(FakeRequest("GET", URL("https://example.com/zzz")), server)
    assert "Authorization" in server.requests[2].headers
    assert "Authorization" not in server.requests[3].headers


async def test_userhash_and_rfc2069_and_auth_int() -> None:
    for server, body in [
        (DigestServer(userhash=True, algorithm="SHA-256"), b""),
        (DigestServer(qop=None), b""),
        (DigestServer(qop="auth-int"), b"payload"),
    ]:
        auth = DigestAuthMiddleware("user", "secret")
        request = FakeRequest("PUT", URL("http://example.com/x"), body=body)
        assert (await auth(request, server)).status == 200


async def test_auth_int_needs_an_in_memory_body() -> None:
    class Streamed:
        value = object()

    server = DigestServer(qop="auth-int")
    auth = DigestAuthMiddleware("user", "secret")
    with pytest.raises(ClientError, match="auth-int"):
        await auth(FakeRequest("PUT", URL("http://example.com/x"), body=Streamed()), server)


async def test_non_ascii_login_uses_rfc8187_username() -> None:
    captured: list[str] = []

    async def handler(request: FakeRequest) -> FakeResponse:
        if "Authorization" in request.headers:
            captured.append(request.headers["Authorization"])
            return FakeResponse(200, CIMultiDict())
        return FakeResponse(401, CIMultiDict({"WWW-Authenticate": 'Digest realm="r", nonce="n"'}))

    auth = DigestAuthMiddleware("J\u00e4s\u00f8n Doe", "pw")
    await auth(FakeRequest("GET", URL("http://example.com/")), handler)
    assert "username*=UTF-8''J%C3%A4s%C3%B8n%20Doe" in captured[0]


async def test_unsupported_algorithm_is_a_client_error() -> None:
    async def handler(request: FakeRequest) -> FakeResponse:
        return FakeResponse(
            401, CIMultiDict({"WWW-Authenticate": 'Digest realm="r", nonce="n", algorithm=SHA-1'})
        )

    with pytest.raises(ClientError, match="unsupported hash algorithm SHA-1"):
        await DigestAuthMiddleware("u", "p")(FakeRequest("GET", URL("http://h/")), handler)


async def test_a_later_supported_challenge_is_chosen() -> None:
    # RFC 7616 section 3.7: the client uses the first challenge it understands.
    header = (
        'Digest realm="r", nonce="n", algorithm=UNKNOWN, '
        'Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth"'
    )
    seen: list[str] = []

    async def handler(request: FakeRequest) -> FakeResponse:
        if "Authorization" in request.headers:
            seen.append(request.headers["Authorization"])
            return FakeResponse(200, CIMultiDict())
        return FakeResponse(401, CIMultiDict({"WWW-Authenticate": header}))

    await DigestAuthMiddleware("u", "p")(FakeRequest("GET", URL("http://h/")), handler)
    assert "algorithm=SHA-256" in seen[0]


async def test_401_without_digest_or_other_statuses_pass_through() -> None:
    calls = 0

    async def handler(request: FakeRequest) -> FakeResponse:
        nonlocal calls
        calls += 1
        return FakeResponse(401, CIMultiDict({"WWW-Authenticate": 'Basic realm="x"'}))

    response = await DigestAuthMiddleware("u", "p")(FakeRequest("GET", URL("http://h/")), handler)
    assert response.status == 401 and calls == 1


def test_login_rules() -> None:
    with pytest.raises(ValueError, match=":"):
        DigestAuthMiddleware("a:b", "p")
    with pytest.raises(ValueError):
        DigestAuthMiddleware(None, "p")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DigestAuthMiddleware("a", None)  # type: ignore[arg-type]
