"""The RFC 6265 building blocks: date parsing, Set-Cookie parsing, matching rules."""

from __future__ import annotations

import calendar

import pytest

from treadle.client._cookie_date import format_cookie_date, parse_cookie_date
from treadle.client._cookie_parse import parse_set_cookie, parse_set_cookie_headers
from treadle.client._cookie_rules import (
    canonical_domain,
    default_path,
    domain_match,
    parse_max_age,
    path_match,
)

T_1994 = calendar.timegm((1994, 11, 6, 8, 49, 37))


@pytest.mark.parametrize(
    "text",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # RFC 1123
        "Sunday, 06-Nov-94 08:49:37 GMT",  # RFC 850
        "Sun Nov  6 08:49:37 1994",  # asctime
        "06 November 1994 08:49:37",
        "Sun, 06-Nov-1994 08:49:37 UTC",
        "1994 Nov 06 08:49:37",
        "08:49:37 6 nov 1994 ; trailing junk",
    ],
)
def test_cookie_date_formats(text: str) -> None:
    assert parse_cookie_date(text) == T_1994


@pytest.mark.parametrize(
    ("text", "year"), [("01 Jan 70 00:00:00", 1970), ("01 Jan 69 00:00:00", 2069)]
)
def test_two_digit_years(text: str, year: int) -> None:
    assert parse_cookie_date(text) == calendar.timegm((year, 1, 1, 0, 0, 0))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tomorrow",
        "Sun, 06 Nov 1994",  # no time
        "Sun, 06 1994 08:49:37",  # no month
        "31 Feb 2020 00:00:00",  # no such day
        "32 Jan 2020 00:00:00",
        "01 Jan 1600 00:00:00",  # before 1601
        "01 Jan 2020 24:00:00",
        "01 Jan 2020 23:60:00",
        "01 Jan 2020 23:59:60",
        "01 Jan 12345 00:00:00",  # 5-digit year is not a year token
    ],
)
def test_invalid_cookie_dates(text: str) -> None:
    assert parse_cookie_date(text) is None


def test_format_cookie_date_round_trips() -> None:
    assert format_cookie_date(T_1994) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert parse_cookie_date(format_cookie_date(T_1994)) == T_1994


def test_parse_set_cookie_attributes() -> None:
    m = parse_set_cookie(
        "sid = abc ; path=/x; DOMAIN=Example.com; secure; HTTPONLY; samesite=None;"
        " max-age=5; expires=Sun, 06 Nov 1994 08:49:37 GMT; Unknown=1"
    )
    assert m is not None
    assert (m.key, m.value) == ("sid", "abc")
    assert m["path"] == "/x" and m["domain"] == "Example.com"
    assert m["secure"] is True and m["httponly"] is True
    assert m["samesite"] == "None" and m["max-age"] == "5"
    assert m["expires"] == "Sun, 06 Nov 1994 08:49:37 GMT"


def test_parse_set_cookie_last_attribute_wins_and_bad_ones_are_skipped() -> None:
    m = parse_set_cookie("a=1; Path=/one; Path=/two; Max-Age=9; Max-Age=x; Expires=never; Domain=")
    assert m is not None
    assert m["path"] == "/two"
    assert m["max-age"] == "9"
    assert m["expires"] == "" and m["domain"] == ""


def test_parse_set_cookie_quoted_value() -> None:
    m = parse_set_cookie(r'a="x\073y \"z\""')
    assert m is not None
    assert m.value == 'x;y "z"'
    assert m.coded_value == r'"x\073y \"z\""'


@pytest.mark.parametrize("header", ["novalue", "=value", " =v", "a b=1", "path=/", ""])
def test_parse_set_cookie_ignores(header: str) -> None:
    assert parse_set_cookie(header) is None


def test_parse_set_cookie_headers_keeps_same_names() -> None:
    cookies = parse_set_cookie_headers(["a=1; Path=/", "junk", "a=2; Path=/x"])
    assert [(n, m.value, m["path"]) for n, m in cookies] == [("a", "1", "/"), ("a", "2", "/x")]


@pytest.mark.parametrize(
    ("host", "domain", "expected"),
    [
        ("example.com", "example.com", True),
        ("www.example.com", "example.com", True),
        ("wwwexample.com", "example.com", False),
        ("example.com", "www.example.com", False),
        ("1.2.3.4", "2.3.4", False),
        ("1.2.3.4", "1.2.3.4", True),
        ("example.com", "", False),
    ],
)
def test_domain_match(host: str, domain: str, expected: bool) -> None:
    assert domain_match(host, domain) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (".Example.COM", "example.com"),
        ("example.com.", None),
        ("", None),
        (".", None),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_canonical_domain(value: str, expected: str | None) -> None:
    assert canonical_domain(value) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [("", "/"), ("x", "/"), ("/", "/"), ("/a", "/"), ("/a/", "/a"), ("/a/b", "/a")],
)
def test_default_path(path: str, expected: str) -> None:
    assert default_path(path) == expected


@pytest.mark.parametrize(
    ("request_path", "cookie_path", "expected"),
    [
        ("/a", "/a", True),
        ("/a/b", "/a", True),
        ("/a/b", "/a/", True),
        ("/ab", "/a", False),
        ("/", "/a", False),
        ("", "/", True),
        ("/anything", "/", True),
    ],
)
def test_path_match(request_path: str, cookie_path: str, expected: bool) -> None:
    assert path_match(request_path, cookie_path) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10", 10), (" 0 ", 0), ("-5", -5), ("+5", None), ("5s", None), ("", None), ("1.5", None)],
)
def test_parse_max_age(value: str, expected: int | None) -> None:
    assert parse_max_age(value) == expected


def test_parse_max_age_clamps_huge_values() -> None:
    assert parse_max_age("9" * 5000) == 10**15
    assert parse_max_age("-" + "9" * 5000) == -(10**15)
