"""The JSON file format of ``CookieJar.save`` / ``CookieJar.load``.

aiohttp pickles its jar; unpickling a file runs whatever code the file names, so a
cookie file planted or edited by someone else becomes code execution. JSON holds only
data. Expiry is stored as an absolute deadline (seconds since the epoch), never the
relative Max-Age, so a loaded cookie does not live longer than the server allowed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FORMAT", "CookieRecord", "read_records", "record_attrs", "write_records"]

FORMAT = "treadle-cookiejar/1"
# Morsel attributes carried through a save (expiry is the separate "expires" field).
_FLAGS = ("secure", "httponly")
_TEXTS = ("samesite", "comment", "version")


def record_attrs(morsel: Mapping[str, object]) -> dict[str, str | bool]:
    """The attributes a record keeps: flags as booleans (a Morsel flag is any truthy
    value), the rest as text."""
    flags: dict[str, str | bool] = {k: bool(morsel.get(k)) for k in _FLAGS}
    return flags | {k: str(morsel.get(k) or "") for k in _TEXTS}


@dataclass(frozen=True, slots=True, kw_only=True)
class CookieRecord:
    """One saved cookie: what the jar needs to put it back exactly as it was."""

    name: str
    value: str
    coded_value: str
    domain: str
    path: str
    host_only: bool
    expires: float | None
    attrs: dict[str, str | bool]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "coded_value": self.coded_value,
            "domain": self.domain,
            "path": self.path,
            "host_only": self.host_only,
            "expires": self.expires,
            **{k: v for k, v in self.attrs.items() if v},
        }

    @classmethod
    def from_json(cls, item: object) -> CookieRecord:
        if not isinstance(item, dict):
            raise ValueError(f"a cookie entry must be an object, got {item!r}")
        expires = item.get("expires")
        if expires is not None and (
            isinstance(expires, bool) or not isinstance(expires, int | float)
        ):
            raise ValueError(f"cookie field 'expires' must be a number or null: {expires!r}")
        attrs: dict[str, str | bool] = {k: item.get(k) is True for k in _FLAGS}
        for key in _TEXTS:
            text = item.get(key, "")
            attrs[key] = text if isinstance(text, str) else ""
        return cls(
            name=_string(item, "name"),
            value=_string(item, "value"),
            coded_value=_string(item, "coded_value"),
            domain=_string(item, "domain"),
            path=_string(item, "path"),
            host_only=item.get("host_only") is True,
            expires=None if expires is None else float(expires),
            attrs=attrs,
        )


def _string(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise ValueError(f"cookie field {key!r} must be a string, got {value!r}")
    return value


def write_records(file_path: str | os.PathLike[str], records: list[CookieRecord]) -> None:
    """Write atomically (temp file, then rename) and readable by the owner only: cookies
    are credentials."""
    path = Path(file_path)
    document = {"format": FORMAT, "cookies": [r.to_json() for r in records]}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(document, f, ensure_ascii=False, indent=1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_records(file_path: str | os.PathLike[str]) -> list[CookieRecord]:
    """Parse a saved jar; ValueError says what is wrong with a file that is not one."""
    raw = Path(file_path).read_bytes()
    if raw[:1] == b"\x80":
        raise ValueError(
            f"{file_path} looks like a pickled aiohttp cookie jar; treadle reads only its "
            "own JSON format (unpickling can run code). Re-create the jar and save() it."
        )
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{file_path} is not a treadle cookie jar file: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{file_path} is not a treadle cookie jar file (format {FORMAT!r})")
    cookies = document.get("cookies")
    if not isinstance(cookies, list):
        raise ValueError(f"{file_path}: 'cookies' must be a list")
    return [CookieRecord.from_json(item) for item in cookies]
