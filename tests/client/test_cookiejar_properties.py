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


def expect_host_only(spec: Spec) -> bool:
    if spec.domain is None:
        return True
    domain = spec.domain.lstrip(".").lower()
    return "." not in domain  # a single label can only be the host itself


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
    morsels = {m.key: m for m in jar}

    result = jar.filter_cookies(URL.build(scheme=scheme, host=host, path=path))

    secure_ok = scheme in ("https", "wss")
    for name, morsel in morsels.items():
        spec = cookies[int(name[1:])]
        assert not is_ip(spec.host) or unsafe, "stored a cookie from an IP host"
        allowed = (
            oracle_domain_ok(host, morsel["domain"], expect_host_only(spec))
            and oracle_path_ok(path, morsel["path"])
            and (secure_ok or not morsel["secure"])
            and (unsafe or not is_ip(host))
        )
        assert (name in result) is allowed, (name, morsel, spec)
    assert set(result) <= set(morsels)


@settings(max_examples=200, deadline=None)
@given(spec=specs)
def test_stored_domain_always_domain_matches_the_setting_host(spec: Spec) -> None:
    jar = CookieJar(unsafe=True)
    jar.update_cookies_from_headers([spec.header("c")], URL.build(scheme="http", host=spec.host))
    for morsel in jar:
        assert oracle_domain_ok(spec.host, morsel["domain"], host_only=False)
        assert morsel["path"].startswith("/")
