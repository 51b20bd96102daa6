"""trust_env rules: proxy variables, NO_PROXY, .netrc; all from a given env mapping."""

from __future__ import annotations

import logging
import urllib.request
from pathlib import Path

import pytest
from yarl import URL

from treadle.client._auth import BasicAuth
from treadle.client._env import (
    ProxyInfo,
    basicauth_from_netrc,
    get_env_proxy_for_url,
    netrc_auth,
    netrc_from_env,
    proxies_from_env,
    proxy_bypass,
    proxy_for_url,
    strip_auth_from_url,
)

NO_NETRC = {"NETRC": "/nonexistent/netrc-for-tests"}


def env(**values: str) -> dict[str, str]:
    return {**NO_NETRC, **values}


@pytest.fixture
def netrc_file(tmp_path: Path) -> Path:
    path = tmp_path / "netrc"
    path.write_text(
        "machine example.com login alice password s3cret\n"
        "machine proxy.local login pu password pp\n"
        "machine acct.example account only password pw\n"
        "default login anon password guest\n"
    )
    path.chmod(0o600)
    return path


# -- proxy selection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://a.example/", "http://hp:1"),
        ("https://a.example/", "http://sp:2"),
        ("ws://a.example/", "http://wp:3"),
        ("wss://a.example/", "http://wsp:4"),
    ],
)
def test_scheme_picks_its_variable(url: str, expected: str) -> None:
    e = env(
        HTTP_PROXY="http://hp:1",
        HTTPS_PROXY="http://sp:2",
        WS_PROXY="http://wp:3",
        wss_proxy="http://wsp:4",
    )
    assert proxy_for_url(URL(url), e) == ProxyInfo(URL(expected), None)
    assert get_env_proxy_for_url(URL(url), e) == (URL(expected), None)


def test_no_variable_means_no_proxy() -> None:
    assert proxy_for_url(URL("https://a.example/"), env(HTTP_PROXY="http://hp:1")) is None
    with pytest.raises(LookupError, match="No proxies found"):
        get_env_proxy_for_url(URL("https://a.example/"), env(HTTP_PROXY="http://hp:1"))


def test_lowercase_wins_and_empty_lowercase_unsets() -> None:
    assert proxies_from_env(env(HTTP_PROXY="http://upper:1", http_proxy="http://lower:2"))[
        "http"
    ].proxy == URL("http://lower:2")
    assert "http" not in proxies_from_env(env(HTTP_PROXY="http://upper:1", http_proxy=""))


def test_httpoxy_uppercase_http_proxy_ignored_under_cgi() -> None:
    e = env(HTTP_PROXY="http://evil:1", REQUEST_METHOD="GET")
    assert "http" not in proxies_from_env(e)
    e["http_proxy"] = "http://fine:2"
    assert proxies_from_env(e)["http"].proxy == URL("http://fine:2")


def test_userinfo_becomes_proxy_auth() -> None:
    info = proxies_from_env(env(HTTP_PROXY="http://us%40er:p%3Ass@proxy:3128"))["http"]
    assert info.proxy == URL("http://proxy:3128")
    assert info.proxy_auth == BasicAuth("us@er", "p:ss")


def test_scheme_less_proxy_is_http() -> None:
    assert proxies_from_env(env(HTTP_PROXY="proxy.local:3128"))["http"].proxy == URL(
        "http://proxy.local:3128"
    )


def test_unsupported_proxies_are_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "treadle.client")
    result = proxies_from_env(
        env(HTTPS_PROXY="https://u:p@tls-proxy:443", HTTP_PROXY="socks5://su:sp@s:1")
    )
    assert result == {}
    assert "HTTPS proxies https://tls-proxy are not supported" in caplog.text
    assert "u:p" not in caplog.text and "sp@" not in caplog.text  # credentials never logged
    assert "socks5" in caplog.text


def test_all_proxy_only_when_asked() -> None:
    e = env(ALL_PROXY="http://all:9", HTTPS_PROXY="http://sp:2")
    assert "http" not in proxies_from_env(e)
    both = proxies_from_env(e, use_all_proxy=True)
    assert both["http"].proxy == URL("http://all:9")
    assert both["https"].proxy == URL("http://sp:2")  # the specific one wins
    assert proxy_for_url(URL("ws://x/"), e, use_all_proxy=True) == ProxyInfo(
        URL("http://all:9"), None
    )


def test_agrees_with_urllib_getproxies(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "HTTP_PROXY": "http://a:1",
        "https_proxy": "http://b:2",
        "HTTPS_PROXY": "http://c:3",
        "ws_proxy": "http://d:4",
    }
    for name in list(__import__("os").environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    theirs = urllib.request.getproxies_environment()
    ours = proxies_from_env(env(**values))
    assert {k: str(v.proxy) for k, v in ours.items()} == {
        k: v for k, v in theirs.items() if k in ours
    }
    assert set(ours) == {k for k in theirs if k in ("http", "https", "ws", "wss")}


# -- NO_PROXY ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "port", "entries", "bypass"),
    [
        ("example.com", 80, ["*"], True),
        ("example.com", 80, ["example.com"], True),
        ("api.example.com", 80, ["example.com"], True),
        ("api.example.com", 80, [".example.com"], True),
        ("badexample.com", 80, ["example.com"], False),
        ("EXAMPLE.com", 80, ["example.COM"], True),
        ("example.com.", 80, ["example.com"], True),
        ("example.com", 8080, ["example.com:8080"], True),
        ("example.com", 80, ["example.com:8080"], False),
        ("10.1.2.3", 80, ["10.0.0.0/8"], True),
        ("11.1.2.3", 80, ["10.0.0.0/8"], False),
        ("127.0.0.1", 80, ["127.0.0.1"], True),
        ("::1", 80, ["::1"], True),
        ("[::1]", 443, ["[::1]:443"], True),
        ("[::1]", 80, ["[::1]:443"], False),
        ("fe80::1", 80, ["fe80::/10"], True),
        ("127.0.0.1", 80, ["localhost"], False),
        ("other.org", 80, ["example.com", "", "other.org"], True),
    ],
)
def test_proxy_bypass(host: str, port: int, entries: list[str], bypass: bool) -> None:
    assert proxy_bypass(host, port, entries) is bypass


def test_no_proxy_from_env_both_cases() -> None:
    e = env(HTTP_PROXY="http://hp:1", NO_PROXY="internal, .corp")
    assert proxy_for_url(URL("http://svc.internal/"), e) is None
    assert proxy_for_url(URL("http://a.corp/"), e) is None
    assert proxy_for_url(URL("http://public.org/"), e) is not None
    e["no_proxy"] = "public.org"  # lowercase replaces uppercase
    assert proxy_for_url(URL("http://public.org/"), e) is None
    assert proxy_for_url(URL("http://svc.internal/"), e) is not None
    with pytest.raises(LookupError, match="disallowed"):
        get_env_proxy_for_url(URL("http://public.org/"), e)


def test_no_proxy_agrees_with_urllib_on_plain_names() -> None:
    for host in ["example.com", "a.example.com", "xexample.com", "example.org"]:
        for entries in ["example.com", ".example.com", "*", "example.org,foo"]:
            theirs = bool(urllib.request.proxy_bypass_environment(host, {"no": entries}))
            assert proxy_bypass(host, 80, entries.split(",")) is theirs, (host, entries)


# -- .netrc ------------------------------------------------------------------------------


def test_netrc_lookup(netrc_file: Path) -> None:
    e = {"NETRC": str(netrc_file)}
    assert netrc_auth("example.com", e) == BasicAuth("alice", "s3cret")
    assert netrc_auth("acct.example", e) == BasicAuth("only", "pw")
    assert netrc_auth("unknown.example", e) == BasicAuth("anon", "guest")  # default entry


def test_netrc_from_home(tmp_path: Path, netrc_file: Path) -> None:
    (tmp_path / ".netrc").write_text(netrc_file.read_text())
    (tmp_path / ".netrc").chmod(0o600)
    assert netrc_auth("example.com", {"HOME": str(tmp_path)}) == BasicAuth("alice", "s3cret")


def test_netrc_missing_or_broken(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "treadle.client")
    assert netrc_from_env({"HOME": str(tmp_path)}) is None
    assert caplog.text == ""  # no default file: silent
    assert netrc_from_env({"NETRC": str(tmp_path / "missing")}) is None
    assert "Could not read .netrc" in caplog.text
    broken = tmp_path / "broken"
    broken.write_text("machine\n")
    assert netrc_from_env({"NETRC": str(broken)}) is None
    assert "Could not parse .netrc" in caplog.text
    with pytest.raises(LookupError, match=r"No \.netrc"):
        basicauth_from_netrc(None, "h")


def test_netrc_supplies_proxy_credentials(netrc_file: Path) -> None:
    e = {"NETRC": str(netrc_file), "HTTP_PROXY": "http://proxy.local:3128"}
    assert proxies_from_env(e)["http"] == ProxyInfo(
        URL("http://proxy.local:3128"), BasicAuth("pu", "pp")
    )
    # Userinfo in the proxy URL wins over .netrc.
    e["HTTP_PROXY"] = "http://x:y@proxy.local:3128"
    assert proxies_from_env(e)["http"].proxy_auth == BasicAuth("x", "y")


def test_strip_auth_from_url() -> None:
    assert strip_auth_from_url(URL("http://u:p@h/x")) == (URL("http://h/x"), BasicAuth("u", "p"))
    assert strip_auth_from_url(URL("http://h/x")) == (URL("http://h/x"), None)
