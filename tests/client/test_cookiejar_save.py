"""CookieJar.save / load: the JSON file format, its round trip and what it refuses."""

from __future__ import annotations

import json
import os
import pickle
import stat
from http.cookies import Morsel
from pathlib import Path

import pytest

from treadle.client import CookieJar

from ._jar_support import NOW, Clock, sent, set_cookies, stored

# -- save / load ----------------------------------------------------------------------


def test_save_load_round_trip(tmp_path: Path, jar: CookieJar, clock: Clock) -> None:
    set_cookies(
        jar,
        "https://www.example.com/app/page",
        "host=1; Secure; HttpOnly; SameSite=Lax",
        "dom=2; Domain=example.com; Path=/; Max-Age=60",
        'q="x y"',
    )
    jar.update_cookies({"shared": "s"})
    path = tmp_path / "jar.json"
    jar.save(path)
    assert json.loads(path.read_text())["format"] == "treadle-cookiejar/1"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    loaded = CookieJar(_clock=clock)
    loaded.update_cookies({"old": "gone"})
    loaded.load(str(path))
    for url in ("https://www.example.com/app/x", "http://docs.example.com/", "http://x.test/"):
        assert loaded.filter_cookies(url).output() == jar.filter_cookies(url).output()
    morsel = stored(loaded)["host"]
    assert (morsel["httponly"], morsel["secure"], morsel["samesite"]) == (True, True, "Lax")
    assert morsel["domain"] == "www.example.com"
    # host-only survives: "host" and "q" stay on www.example.com
    assert sent(loaded, "https://sub.www.example.com/app/") == {"shared": "s", "dom": "2"}
    assert stored(loaded)["dom"]["expires"] == "Thu, 01 Jan 2026 00:01:00 GMT"
    clock.now += 60  # the absolute deadline survived the trip
    assert "dom" not in sent(loaded, "http://docs.example.com/")


def test_flags_set_as_any_truthy_value_survive_save(tmp_path: Path, jar: CookieJar) -> None:
    morsel: Morsel[str] = Morsel()
    morsel.set("s", "1", "1")
    morsel["secure"] = 1  # Morsel flags are truthy values, not only True
    morsel["httponly"] = "yes"
    jar.update_cookies([("s", morsel)])
    assert sent(jar, "http://h.test/") == {}
    jar.save(tmp_path / "jar.json")
    loaded = CookieJar()
    loaded.load(tmp_path / "jar.json")
    assert sent(loaded, "http://h.test/") == {}  # still Secure
    assert sent(loaded, "https://h.test/") == {"s": "1"}
    assert stored(loaded)["s"]["httponly"] is True


def test_load_drops_cookies_expired_on_disk(tmp_path: Path, jar: CookieJar, clock: Clock) -> None:
    set_cookies(jar, "http://h.test/", "a=1; Max-Age=5", "b=2")
    jar.save(tmp_path / "jar.json")
    later = CookieJar(_clock=Clock(NOW + 5))
    later.load(tmp_path / "jar.json")
    assert stored(later).keys() == {"b"}


def test_cookies_at_the_size_limit_survive_save_and_load(
    tmp_path: Path, jar: CookieJar, clock: Clock
) -> None:
    # A host-only cookie with Max-Age: load() writes its domain and an Expires date,
    # which the size limit must already have counted when the cookie was accepted.
    url = "https://www.example.com/"
    for n in range(4000, 4100):
        set_cookies(jar, url, f"c{n}=" + "v" * n + "; Path=/; Max-Age=600")
    assert 0 < len(jar) < 100
    jar.save(tmp_path / "jar.json")
    loaded = CookieJar(_clock=clock)
    loaded.load(tmp_path / "jar.json")
    assert stored(loaded).keys() == stored(jar).keys()


def test_load_applies_the_size_limit(tmp_path: Path, jar: CookieJar, clock: Clock) -> None:
    set_cookies(jar, "http://h.test/", "a=1", "b=2")
    jar.save(tmp_path / "jar.json")
    document = json.loads((tmp_path / "jar.json").read_text())
    document["cookies"][0]["path"] = "/" + "x" * 4096
    (tmp_path / "jar.json").write_text(json.dumps(document))
    loaded = CookieJar(_clock=clock)
    loaded.load(tmp_path / "jar.json")
    assert stored(loaded).keys() == {"b"}


def test_load_refuses_a_pickle(tmp_path: Path, jar: CookieJar) -> None:
    path = tmp_path / "jar.pickle"
    path.write_bytes(pickle.dumps({"cookies": 1}))
    with pytest.raises(ValueError, match="pickle"):
        jar.load(path)


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"format": "other", "cookies": []}',
        '{"format": "treadle-cookiejar/1", "cookies": {}}',
        '{"format": "treadle-cookiejar/1", "cookies": [{"name": 1}]}',
        '{"format": "treadle-cookiejar/1", "cookies": [["a"]]}',
    ],
)
def test_load_refuses_malformed_files(tmp_path: Path, jar: CookieJar, content: str) -> None:
    path = tmp_path / "jar.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="cookie"):
        jar.load(path)


def test_load_applies_validation(tmp_path: Path, clock: Clock) -> None:
    record = {
        "name": "a",
        "value": "x\r\ny",
        "coded_value": "x",
        "domain": "h.test",
        "path": "/",
        "host_only": True,
        "expires": None,
    }
    path = tmp_path / "jar.json"
    good = dict(record, name="b", value="ok", coded_value="ok")
    path.write_text(json.dumps({"format": "treadle-cookiejar/1", "cookies": [record, good]}))
    jar = CookieJar(_clock=clock)
    jar.load(path)
    assert stored(jar).keys() == {"b"}
