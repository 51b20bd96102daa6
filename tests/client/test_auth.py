"""BasicAuth (RFC 7617): construction rules, encode/decode, from_url, and agreement with
aiohttp's own BasicAuth on the same inputs."""

from __future__ import annotations

import base64
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from treadle.client._auth import BasicAuth


def test_is_a_tuple_with_aiohttp_fields() -> None:
    auth = BasicAuth("user", "pass")
    assert auth == ("user", "pass", "latin1")
    assert (auth.login, auth.password, auth.encoding) == ("user", "pass", "latin1")
    assert BasicAuth("user") == ("user", "", "latin1")
    login, password, encoding = BasicAuth("a", "b", "utf-8")
    assert (login, password, encoding) == ("a", "b", "utf-8")


def test_encode() -> None:
    # RFC 7617 section 2's example.
    assert BasicAuth("Aladdin", "open sesame").encode() == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    assert BasicAuth("t\u00e9st", "p", "utf-8").encode() == "Basic " + base64.b64encode(
        "t\u00e9st:p".encode()
    ).decode("ascii")


def test_encode_outside_the_charset_fails_loudly() -> None:
    with pytest.raises(UnicodeEncodeError):
        BasicAuth("\u20ac", "p").encode()  # latin1 has no euro sign


@pytest.mark.parametrize(
    ("login", "password", "match"),
    [("a:b", "p", ":"), (None, "p", "login"), ("a", None, "password")],
)
def test_construction_is_checked(login: str, password: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        BasicAuth(login, password)


def test_password_may_contain_colons() -> None:
    auth = BasicAuth.decode(BasicAuth("u", "a:b:c").encode())
    assert auth.password == "a:b:c"


@pytest.mark.parametrize(
    ("header", "match"),
    [
        ("Basic", "Could not parse"),
        ("Bearer abc", "Unknown authorization method Bearer"),
        ("Basic !!!", "Invalid base64"),
        ("Basic w6k=\u00e9", "Invalid base64"),
        ("Basic " + base64.b64encode(b"nocolon").decode(), "Invalid credentials"),
        ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "not valid utf-8"),
    ],
)
def test_decode_errors(header: str, match: str) -> None:
    encoding = "utf-8" if "utf-8" in match else "latin1"
    with pytest.raises(ValueError, match=match):
        BasicAuth.decode(header, encoding=encoding)


def test_decode() -> None:
    assert BasicAuth.decode("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==") == (
        "Aladdin",
        "open sesame",
        "latin1",
    )
    assert BasicAuth.decode("basic " + base64.b64encode(b":").decode()) == ("", "", "latin1")
    assert (
        BasicAuth.decode("Basic " + base64.b64encode("\u00e9:x".encode()).decode(), "utf-8").login
        == "\u00e9"
    )


def test_from_url() -> None:
    assert BasicAuth.from_url(URL("http://user:pa%20ss@host/")) == ("user", "pa ss", "latin1")
    assert BasicAuth.from_url(URL("http://user@host/")) == ("user", "", "latin1")
    assert BasicAuth.from_url(URL("http://:pw@host/")) == ("", "pw", "latin1")
    assert BasicAuth.from_url(URL("http://host/")) is None
    assert BasicAuth.from_url(URL("http://u:p@h/"), encoding="utf-8").encoding == "utf-8"
    with pytest.raises(TypeError, match=r"yarl\.URL"):
        BasicAuth.from_url("http://u:p@h/")  # type: ignore[arg-type]


_text = st.text(st.characters(codec="latin-1", exclude_characters=":"), max_size=20)


@given(login=_text, password=st.text(st.characters(codec="latin-1"), max_size=20))
def test_agrees_with_aiohttp(login: str, password: str) -> None:
    import aiohttp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        theirs = aiohttp.BasicAuth(login, password)
        ours = BasicAuth(login, password)
        assert ours.encode() == theirs.encode()
        assert BasicAuth.decode(ours.encode()) == tuple(aiohttp.BasicAuth.decode(theirs.encode()))
        assert ours == tuple(theirs)
