"""CookieJar / DummyCookieJar: RFC 6265 storage and retrieval, with aiohttp's interface."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from http.cookies import BaseCookie, Morsel, SimpleCookie

import pytest
from yarl import URL

from treadle.client import AbstractCookieJar, CookieJar, DummyCookieJar
from treadle.client import __all__ as client_all

from ._jar_support import Clock, sent, set_cookies, stored


def test_public_names() -> None:
    assert len(CookieJar(loop=None)) == 0  # aiohttp 3.x's deprecated argument is accepted
    assert set(client_all) >= {"AbstractCookieJar", "CookieJar", "DummyCookieJar"}
    assert issubclass(CookieJar, AbstractCookieJar)
    assert issubclass(DummyCookieJar, AbstractCookieJar)


# -- RFC 6265 section 3.1 examples ------------------------------------------------------


def test_rfc6265_example_host_only_cookie(jar: CookieJar) -> None:
    set_cookies(jar, "http://www.example.com/", "SID=31d4d96e407aad42")
    assert sent(jar, "http://www.example.com/") == {"SID": "31d4d96e407aad42"}
    assert sent(jar, "http://example.com/") == {}
    assert sent(jar, "http://sub.www.example.com/") == {}


def test_rfc6265_example_domain_cookie(jar: CookieJar) -> None:
    set_cookies(jar, "http://example.com/", "SID=31d4d96e407aad42; Path=/; Domain=example.com")
    for host in ("example.com", "docs.example.com", "a.b.example.com"):
        assert sent(jar, f"http://{host}/any/path") == {"SID": "31d4d96e407aad42"}
    assert sent(jar, "http://notexample.com/") == {}
    assert sent(jar, "http://example.org/") == {}


def test_rfc6265_example_secure_httponly_and_lang(jar: CookieJar) -> None:
    set_cookies(
        jar,
        "https://www.example.com/",
        "SID=31d4d96e407aad42; Path=/; Secure; HttpOnly",
        "lang=en-US; Path=/; Domain=example.com",
    )
    header = jar.filter_cookies("https://www.example.com/").output(header="", sep=";")
    assert header.replace(" ", "") == "SID=31d4d96e407aad42;lang=en-US"
    assert stored(jar)["SID"]["httponly"] is True
    assert stored(jar)["SID"]["secure"] is True


def test_rfc6265_example_expires_then_delete(jar: CookieJar, clock: Clock) -> None:
    clock.now = float(calendar.timegm((2021, 1, 1, 0, 0, 0)))
    set_cookies(jar, "http://www.example.com/", "lang=en-US; Expires=Wed, 09 Jun 2021 10:18:14 GMT")
    assert sent(jar, "http://www.example.com/") == {"lang": "en-US"}
    set_cookies(jar, "http://www.example.com/", "lang=; Expires=Sun, 06 Nov 1994 08:49:37 GMT")
    assert sent(jar, "http://www.example.com/") == {}
    assert len(jar) == 0


# -- domains --------------------------------------------------------------------------


def test_leading_dot_and_case_of_domain_attribute(jar: CookieJar) -> None:
    set_cookies(jar, "http://www.example.com/", "a=1; Domain=.EXAMPLE.com")
    assert stored(jar)["a"]["domain"] == "example.com"
    assert sent(jar, "http://other.example.com/") == {"a": "1"}


@pytest.mark.parametrize(
    "domain",
    ["other.com", "ample.com", "sub.www.example.com", "com", "example.co", "127.0.0.1"],
)
def test_domain_that_does_not_domain_match_the_host_is_rejected(
    jar: CookieJar, domain: str
) -> None:
    set_cookies(jar, "http://www.example.com/", f"a=1; Domain={domain}")
    assert len(jar) == 0


def test_domain_equal_to_host_covers_subdomains(jar: CookieJar) -> None:
    set_cookies(jar, "http://www.example.com/", "a=1; Domain=www.example.com")
    assert sent(jar, "http://x.www.example.com/") == {"a": "1"}


def test_domain_with_trailing_dot_is_ignored_and_cookie_stays_host_only(jar: CookieJar) -> None:
    set_cookies(jar, "http://www.example.com/", "a=1; Domain=example.com.")
    assert stored(jar)["a"]["domain"] == "www.example.com"
    assert sent(jar, "http://example.com/") == {}
    assert sent(jar, "http://www.example.com/") == {"a": "1"}


def test_localhost_cookies(jar: CookieJar) -> None:
    set_cookies(jar, "http://localhost:8080/", "a=1", "b=2; Domain=localhost")
    assert sent(jar, "http://localhost:9000/x") == {"a": "1", "b": "2"}
    # Domain=localhost is a single label: allowed from localhost itself, host-only.
    assert sent(jar, "http://sub.localhost/") == {}


def test_single_label_domain_from_a_deeper_host_is_refused(jar: CookieJar) -> None:
    set_cookies(jar, "http://foo.localhost/", "a=1; Domain=localhost")
    assert len(jar) == 0


def test_ip_address_hosts_ignored_unless_unsafe(clock: Clock) -> None:
    safe = CookieJar(_clock=clock)
    set_cookies(safe, "http://127.0.0.1:8080/", "a=1")
    assert len(safe) == 0
    unsafe = CookieJar(unsafe=True, _clock=clock)
    set_cookies(unsafe, "http://127.0.0.1:8080/", "a=1")
    set_cookies(unsafe, "http://[::1]/", "b=2")
    assert sent(unsafe, "http://127.0.0.1/") == {"a": "1"}
    assert sent(unsafe, "http://[::1]/") == {"b": "2"}
    assert sent(unsafe, "http://127.0.0.2/") == {}


def test_ip_host_never_domain_matches_a_suffix(clock: Clock) -> None:
    jar = CookieJar(unsafe=True, _clock=clock)
    set_cookies(jar, "http://127.0.0.1/", "a=1; Domain=0.0.1")
    assert len(jar) == 0


def test_filtering_for_an_ip_host_returns_only_shared_cookies_when_safe(jar: CookieJar) -> None:
    jar.update_cookies({"shared": "s"})
    jar.update_cookies({"a": "1"}, URL("http://example.com/"))
    assert sent(jar, "http://127.0.0.1/") == {"shared": "s"}


def test_cookies_without_url_are_shared_by_all_hosts(jar: CookieJar) -> None:
    jar.update_cookies({"a": "1"})
    assert sent(jar, "http://example.com/") == {"a": "1"}
    assert sent(jar, "https://other.test/deep/path") == {"a": "1"}
    assert sent(jar, "http://10.0.0.1/") == {"a": "1"}


def test_morsel_with_domain_set_by_program_is_trusted(jar: CookieJar) -> None:
    m: Morsel[str] = Morsel()
    m.set("a", "1", "1")
    m["domain"] = "example.com"
    jar.update_cookies([("a", m)])
    assert sent(jar, "http://www.example.com/") == {"a": "1"}
    assert sent(jar, "http://example.org/") == {}


# -- paths ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("http://h.test/docs/index.html", "/docs"),
        ("http://h.test/docs", "/"),
        ("http://h.test/a/b/", "/a/b"),
        ("http://h.test", "/"),
        ("http://h.test/", "/"),
    ],
)
def test_default_path(jar: CookieJar, url: str, path: str) -> None:
    set_cookies(jar, url, "a=1")
    assert stored(jar)["a"]["path"] == path


def test_relative_path_attribute_means_default_path(jar: CookieJar) -> None:
    set_cookies(jar, "http://h.test/docs/x", "a=1; Path=docs/y")
    assert stored(jar)["a"]["path"] == "/docs"


@pytest.mark.parametrize(
    ("request_path", "expected"),
    [
        ("/docs", True),
        ("/docs/", True),
        ("/docs/web/page", True),
        ("/", False),
        ("/docsets", False),
        ("/fr/docs", False),
    ],
)
def test_path_matching(jar: CookieJar, request_path: str, expected: bool) -> None:
    set_cookies(jar, "http://h.test/", "a=1; Path=/docs")
    assert ("a" in sent(jar, f"http://h.test{request_path}")) is expected


def test_same_name_different_paths_both_kept_longest_path_sent(jar: CookieJar) -> None:
    set_cookies(jar, "http://h.test/", "a=root; Path=/", "a=deep; Path=/x/y")
    assert len(jar) == 2
    assert sent(jar, "http://h.test/x/y/z") == {"a": "deep"}
    assert sent(jar, "http://h.test/x") == {"a": "root"}


def test_longer_paths_come_first_then_older_cookies(jar: CookieJar, clock: Clock) -> None:
    set_cookies(jar, "http://h.test/", "old=1; Path=/", "new=2; Path=/", "deep=3; Path=/a")
    assert list(jar.filter_cookies("http://h.test/a/b")) == ["deep", "old", "new"]
    # Replacing a cookie keeps its creation time (RFC 6265 5.3 step 11.3).
    set_cookies(jar, "http://h.test/", "old=changed; Path=/")
    assert list(jar.filter_cookies("http://h.test/a/b")) == ["deep", "old", "new"]


def test_same_name_on_host_and_parent_domain(jar: CookieJar) -> None:
    set_cookies(jar, "http://www.example.com/", "a=host", "a=parent; Domain=example.com")
    assert len(jar) == 2
    assert sent(jar, "http://www.example.com/")["a"] == "host"
    assert sent(jar, "http://example.com/") == {"a": "parent"}


# -- secure, httponly, samesite -----------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "expected"), [("https", True), ("wss", True), ("http", False), ("ws", False)]
)
def test_secure_cookies_only_over_secure_schemes(
    jar: CookieJar, scheme: str, expected: bool
) -> None:
    set_cookies(jar, "https://h.test/", "s=1; Secure", "p=2")
    assert sent(jar, f"{scheme}://h.test/") == ({"s": "1", "p": "2"} if expected else {"p": "2"})


@pytest.mark.parametrize(
    "origins",
    [
        "http://127.0.0.1:8080",
        URL("http://127.0.0.1:8080/ignored/path"),
        ["http://other.test", URL("http://127.0.0.1:8080")],
    ],
)
def test_treat_as_secure_origin(clock: Clock, origins: object) -> None:
    jar = CookieJar(unsafe=True, treat_as_secure_origin=origins, _clock=clock)  # type: ignore[arg-type]
    set_cookies(jar, "https://127.0.0.1:8080/", "s=1; Secure")
    assert sent(jar, "http://127.0.0.1:8080/x") == {"s": "1"}
    assert sent(jar, "http://127.0.0.1:8081/x") == {}


def test_secure_origin_default_port_is_normalised(clock: Clock) -> None:
    jar = CookieJar(treat_as_secure_origin="http://h.test:80", _clock=clock)
    set_cookies(jar, "https://h.test/", "s=1; Secure")
    assert sent(jar, "http://h.test/") == {"s": "1"}


def test_httponly_and_samesite_are_stored(jar: CookieJar) -> None:
    set_cookies(jar, "http://h.test/", "a=1; HttpOnly; SameSite=Strict")
    morsel = stored(jar)["a"]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert sent(jar, "http://h.test/") == {"a": "1"}


# -- expiry ---------------------------------------------------------------------------


def test_max_age_expires_lazily(jar: CookieJar, clock: Clock) -> None:
    set_cookies(jar, "http://h.test/", "a=1; Max-Age=10")
    clock.now += 9.5
    assert sent(jar, "http://h.test/") == {"a": "1"}
    clock.now += 0.5
    assert sent(jar, "http://h.test/") == {}
    assert len(jar) == 0
    assert list(jar) == []


def test_max_age_wins_over_expires(jar: CookieJar, clock: Clock) -> None:
    set_cookies(
        jar,
        "http://h.test/",
        "a=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=100",
        "b=2; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
    )
    assert sent(jar, "http://h.test/") == {"a": "1"}
    clock.now += 100
    assert sent(jar, "http://h.test/") == {}


@pytest.mark.parametrize(
    "deleter",
    ["a=; Max-Age=0", "a=x; Max-Age=-1", "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"],
)
def test_expired_cookie_deletes_existing(jar: CookieJar, deleter: str) -> None:
    set_cookies(jar, "http://h.test/", "a=1", "b=2")
    set_cookies(jar, "http://h.test/", deleter)
    assert stored(jar).keys() == {"b"}


def test_invalid_max_age_falls_back_to_expires(jar: CookieJar, clock: Clock) -> None:
    morsel: Morsel[str] = Morsel()
    morsel.set("a", "1", "1")
    morsel["max-age"] = "10s"
    morsel["expires"] = "Thu, 01 Jan 2026 00:01:00 GMT"
    jar.update_cookies({"a": morsel}, URL("http://h.test/"))
    clock.now += 59
    assert sent(jar, "http://h.test/") == {"a": "1"}
    clock.now += 1
    assert sent(jar, "http://h.test/") == {}


def test_unparseable_expires_makes_a_session_cookie(jar: CookieJar, clock: Clock) -> None:
    morsel: Morsel[str] = Morsel()
    morsel.set("a", "1", "1")
    morsel["expires"] = "tomorrow-ish"
    jar.update_cookies({"a": morsel}, URL("http://h.test/"))
    clock.now += 10**9
    assert sent(jar, "http://h.test/") == {"a": "1"}


def test_far_future_expiry_is_clamped_not_an_error(jar: CookieJar) -> None:
    set_cookies(
        jar,
        "http://h.test/",
        "a=1; Max-Age=99999999999999999999999",
        "b=2; Expires=Fri, 31 Dec 9999 23:59:59 GMT",
    )
    assert sent(jar, "http://h.test/") == {"a": "1", "b": "2"}


def test_no_event_loop_and_expiry_bookkeeping_stays_bounded(jar: CookieJar) -> None:
    # Plain sync code with no loop running: the jar arms no timer and starts no task.
    for i in range(1000):
        set_cookies(jar, "http://h.test/", f"a={i}; Max-Age=1000")
    assert len(jar) == 1
    assert len(jar._expiry) <= 2 * len(jar) + 65


# -- quoting and validation -----------------------------------------------------------


def test_quote_cookie_true_quotes_values_that_need_it(jar: CookieJar) -> None:
    jar.update_cookies({"a": "x y", "b": "plain"})
    cookies = jar.filter_cookies("http://h.test/")
    assert isinstance(cookies, SimpleCookie)
    assert cookies["a"].coded_value == '"x y"'
    assert cookies["b"].coded_value == "plain"
    assert jar.quote_cookie is True


def test_quote_cookie_false_sends_values_as_stored(clock: Clock) -> None:
    jar = CookieJar(quote_cookie=False, _clock=clock)
    jar.update_cookies({"a": "x y,z"})
    set_cookies(jar, "http://h.test/", 'q="quoted"')
    cookies = jar.filter_cookies("http://h.test/")
    assert cookies["a"].coded_value == "x y,z"
    assert cookies["q"].coded_value == "quoted"
    assert jar.quote_cookie is False


def test_quote_cookie_false_refuses_semicolon(clock: Clock) -> None:
    jar = CookieJar(quote_cookie=False, _clock=clock)
    jar.update_cookies({"a": "x;evil=1", "b": "ok"})
    assert sent(jar, "http://h.test/") == {"b": "ok"}


def test_server_quoted_value_is_sent_back_as_received(jar: CookieJar) -> None:
    set_cookies(jar, "http://h.test/", 'a="abc"')
    cookies = jar.filter_cookies("http://h.test/")
    assert cookies["a"].value == "abc"
    assert cookies["a"].coded_value == '"abc"'


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: x=1", "nul\x00", "del\x7f", "tab\there"])
def test_control_characters_in_values_are_refused(jar: CookieJar, value: str) -> None:
    jar.update_cookies({"a": value, "b": "ok"})
    assert sent(jar, "http://h.test/") == {"b": "ok"}


@pytest.mark.parametrize("name", ["", "a b", "a;b", "a=b", "é", "path", "Expires", "a\r\n"])
def test_invalid_names_are_refused(jar: CookieJar, name: str) -> None:
    jar.update_cookies([(name, "1"), ("ok", "1")])
    assert stored(jar).keys() == {"ok"}


def test_cookie_size_limit(jar: CookieJar) -> None:
    # Measured as stored: name, value and the path "/" it is stored under.
    jar.update_cookies({"n": "v" * (4096 - 2)})
    assert len(jar) == 1
    jar.update_cookies({"m": "v" * (4096 - 1)})
    assert stored(jar).keys() == {"n"}
    # Attribute values count too (RFC 6265 6.1).
    set_cookies(jar, "http://h.test/", "p=" + "v" * 4000 + "; Path=/" + "x" * 100)
    assert stored(jar).keys() == {"n"}


# -- update_cookies input forms -------------------------------------------------------


def test_update_cookies_accepts_aiohttp_loose_cookies(jar: CookieJar) -> None:
    simple: SimpleCookie = SimpleCookie()
    simple["s"] = "1"
    simple["s"]["path"] = "/"
    jar.update_cookies(simple, URL("http://h.test/x/y"))
    jar.update_cookies([("t", "2"), ("u", simple["s"])], "http://h.test/")
    jar.update_cookies({"v": "3"}, "http://h.test/")
    assert sent(jar, "http://h.test/") == {"s": "1", "t": "2", "v": "3"}
    assert stored(jar)["t"]["domain"] == "h.test"


def test_stored_morsel_is_a_copy(jar: CookieJar) -> None:
    simple: SimpleCookie = SimpleCookie()
    simple["s"] = "1"
    jar.update_cookies(simple, URL("http://h.test/"))
    simple["s"]["domain"] = "evil.test"
    simple["s"].set("s", "changed", "changed")
    assert sent(jar, "http://h.test/") == {"s": "1"}


def test_changing_a_filter_cookies_result_does_not_change_the_jar(clock: Clock) -> None:
    for quote in (True, False):
        jar = CookieJar(quote_cookie=quote, _clock=clock)
        set_cookies(jar, "http://h.test/", "a=1", 'q="x y"')
        first = jar.filter_cookies("http://h.test/")
        first["a"] = "changed"  # BaseCookie assignment re-sets the existing Morsel
        first["q"]["path"] = "/elsewhere"
        again = jar.filter_cookies("http://h.test/")
        assert again["a"].value == "1" and again["a"].coded_value == "1"
        assert again["q"]["path"] == ""
        assert again["q"].coded_value == ('"x y"' if quote else "x y")
        assert again["q"] is not first["q"]


# -- limits ---------------------------------------------------------------------------


def test_per_domain_limit_evicts_least_recently_used(jar: CookieJar) -> None:
    assert jar.max_cookies_per_domain == 180
    for i in range(180):
        jar.update_cookies({f"c{i}": "v"}, URL("http://h.test/"))
    jar.update_cookies({"c0": "refreshed"}, URL("http://h.test/"))  # c0 is now recent
    jar.update_cookies({"extra": "v"}, URL("http://h.test/"))
    names = stored(jar).keys()
    assert len(names) == 180
    assert "c0" in names and "extra" in names and "c1" not in names


def test_sending_a_cookie_counts_as_use(jar: CookieJar) -> None:
    for i in range(180):
        set_cookies(jar, "http://h.test/", f"c{i}=v; Path=/p{i}")
    assert sent(jar, "http://h.test/p0") == {"c0": "v"}
    set_cookies(jar, "http://h.test/", "extra=v")
    names = stored(jar).keys()
    assert "c0" in names and "c1" not in names


def test_total_limit(jar: CookieJar) -> None:
    assert jar.max_cookies == 3000
    for d in range(17):
        for i in range(180):
            jar.update_cookies({f"c{i}": "v"}, URL(f"http://d{d}.test/"))
    assert len(jar) == 3000
    # The oldest domain lost its first cookies; the newest domain is whole.
    assert sent(jar, "http://d0.test/").keys() >= {"c179"}
    assert "c0" not in sent(jar, "http://d0.test/")
    assert len(sent(jar, "http://d16.test/")) == 180


# -- clear, iteration ---------------------------------------------------------------------


def populate(jar: CookieJar) -> None:
    set_cookies(jar, "http://example.com/", "a=1")
    set_cookies(jar, "http://sub.example.com/", "b=2")
    set_cookies(jar, "http://www.example.com/", "c=3; Domain=example.com")
    set_cookies(jar, "http://notexample.com/", "d=4")
    set_cookies(jar, "http://other.test/", "e=5")


def test_clear_everything(jar: CookieJar) -> None:
    populate(jar)
    jar.clear()
    assert len(jar) == 0
    assert sent(jar, "http://example.com/") == {}


def test_clear_with_predicate(jar: CookieJar) -> None:
    populate(jar)
    jar.clear(lambda m: m.value in {"1", "5"})
    assert stored(jar).keys() == {"b", "c", "d"}


def test_clear_domain_includes_subdomains_only(jar: CookieJar) -> None:
    populate(jar)
    jar.clear_domain("example.com")
    assert stored(jar).keys() == {"d", "e"}


def test_iteration_yields_morsels_and_tolerates_clear(jar: CookieJar) -> None:
    populate(jar)
    seen = []
    for morsel in jar:
        assert isinstance(morsel, Morsel)
        seen.append(morsel.key)
        jar.clear()
    assert len(seen) == 5


# -- DummyCookieJar and the abstract interface ----------------------------------------


def test_dummy_cookie_jar_stores_nothing() -> None:
    dummy = DummyCookieJar(loop=None)
    dummy.update_cookies({"a": "1"})
    set_cookies(dummy, "http://h.test/", "b=2")
    assert len(dummy) == 0
    assert list(dummy) == []
    cookies = dummy.filter_cookies("http://h.test/")
    assert isinstance(cookies, BaseCookie) and len(cookies) == 0
    assert dummy.quote_cookie is True
    dummy.clear()
    dummy.clear_domain("h.test")
    assert len(dummy) == 0


def test_abstract_cookie_jar_contract() -> None:
    with pytest.raises(TypeError):
        AbstractCookieJar()  # type: ignore[abstract]

    class Recording(AbstractCookieJar):
        def __init__(self) -> None:
            super().__init__(loop=None)  # aiohttp 3.x subclasses pass loop
            self.got: list[tuple[str, str]] = []

        quote_cookie = True  # type: ignore[assignment]

        def __iter__(self) -> Iterator[Morsel[str]]:
            return iter(())

        def __len__(self) -> int:
            return len(self.got)

        def clear(self, predicate: object = None) -> None:
            self.got.clear()

        def clear_domain(self, domain: str) -> None:
            pass

        def update_cookies(self, cookies: object, response_url: object = None) -> None:
            assert isinstance(cookies, list)
            self.got += [(name, m.value) for name, m in cookies]

        def filter_cookies(self, request_url: object) -> BaseCookie[str]:
            return SimpleCookie()

    rec = Recording()
    rec.update_cookies_from_headers(["a=1; Path=/", "broken", "b=2"], URL("http://h.test/"))
    assert rec.got == [("a", "1"), ("b", "2")]
