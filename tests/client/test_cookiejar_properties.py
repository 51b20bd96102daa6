"""Hypothesis: filter_cookies sends exactly the cookies RFC 6265's rules allow.

The oracle below is written independently of treadle.client._cookie_rules: a cookie
goes to a URL when its domain, path and Secure flag allow it, and every such cookie
goes (each generated cookie has its own name, so none hides another).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from treadle.client import CookieJar

HOSTS = [
    "example.com",
    "www.example.com",
    "a.www.example.com",
    "example.org",
    "notexample.com",
    "localhost",
    "com",
    "127.0.0.1",
]
PATHS = ["", "/", "/a", "/a/", "/a/b", "/a/b/c", "/ab", "/b"]
DOMAIN_ATTRS = [None, "example.com", ".example.com", "www.example.com", "com", "localhost"]
DOMAIN_ATTRS += ["org", "example.org", "127.0.0.1", "EXAMPLE.COM", "a.www.example.com"]


@dataclass
class Spec:
    host: str
    path: str
    domain: str | None
    cookie_path: str | None
    secure: bool

    def header(self, name: str) -> str:
        parts = [f"{name}=v"]
        if self.domain is not None:
            parts.append(f"Domain={self.domain}")
        if self.cookie_path is not None:
            parts.append(f"Path={self.cookie_path}")
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)


specs = st.builds(
    Spec,
    host=st.sampled_from(HOSTS),
    path=st.sampled_from(PATHS),
    domain=st.sampled_from(DOMAIN_ATTRS),
    cookie_path=st.sampled_from([None, *PATHS, "rel"]),
    secure=st.booleans(),
)


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def oracle_domain_ok(host: str, cookie_domain: str, host_only: bool) -> bool:
    if host == cookie_domain:
        return True
    return not host_only and not is_ip(host) and host.endswith("." + cookie_domain)


def oracle_path_ok(request_path: str, cookie_path: str) -> bool:
    request_path = request_path or "/"
    if request_path == cookie_path:
        return True
    prefix = cookie_path if cookie_path.endswith("/") else cookie_path + "/"
    return request_path.startswith(prefix)


def oracle_default_path(request_path: str) -> str:
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rindex("/")]


def expect_stored(spec: Spec, unsafe: bool) -> tuple[str, str, bool] | None:
    """(domain, path, host_only) the jar must store the cookie under, or None."""
    if is_ip(spec.host) and not unsafe:
        return None
    path = spec.cookie_path or ""
    if not path.startswith("/"):
        path = oracle_default_path(spec.path)
    if spec.domain is None:
        return spec.host, path, True
    domain = spec.domain.lower().removeprefix(".")
    if "." not in domain:  # a single label can only be the host itself, host-only
        return (spec.host, path, True) if domain == spec.host else None
    if spec.host == domain or (spec.host.endswith("." + domain) and not is_ip(spec.host)):
        return domain, path, False
    return None


@settings(max_examples=300, deadline=None)
@given(
    cookies=st.lists(specs, max_size=12),
    scheme=st.sampled_from(["http", "https", "ws", "wss"]),
    host=st.sampled_from(HOSTS),
    path=st.sampled_from(PATHS),
    unsafe=st.booleans(),
)
def test_filter_cookies_obeys_domain_path_and_secure_rules(
    cookies: list[Spec], scheme: str, host: str, path: str, unsafe: bool
) -> None:
    jar = CookieJar(unsafe=unsafe)
    for i, spec in enumerate(cookies):
        url = URL.build(scheme="https", host=spec.host, path=spec.path)
        jar.update_cookies_from_headers([spec.header(f"c{i}")], url)
    expected = {f"c{i}": expect_stored(spec, unsafe) for i, spec in enumerate(cookies)}
    expected_stored = {name: where for name, where in expected.items() if where is not None}
    assert {m.key: (m["domain"], m["path"]) for m in jar} == {
        name: (domain, cookie_path) for name, (domain, cookie_path, _) in expected_stored.items()
    }

    result = jar.filter_cookies(URL.build(scheme=scheme, host=host, path=path))

    secure_ok = scheme in ("https", "wss")
    allowed = {
        name
        for name, (domain, cookie_path, host_only) in expected_stored.items()
        if oracle_domain_ok(host, domain, host_only)
        and oracle_path_ok(path, cookie_path)
        and (secure_ok or not cookies[int(name[1:])].secure)
        and (unsafe or not is_ip(host))
    }
    assert set(result) == allowed


@settings(max_examples=200, deadline=None)
@given(spec=specs)
def test_stored_domain_always_domain_matches_the_setting_host(spec: Spec) -> None:
    jar = CookieJar(unsafe=True)
    jar.update_cookies_from_headers([spec.header("c")], URL.build(scheme="http", host=spec.host))
    for morsel in jar:
        assert oracle_domain_ok(spec.host, morsel["domain"], host_only=False)
        assert morsel["path"].startswith("/")
