"""What ``trust_env=True`` reads: proxies from ``*_PROXY``/``NO_PROXY`` and credentials
from ``.netrc``.

Every function takes the environment as a mapping (``os.environ`` when omitted), so the
rules are deterministic and testable. They follow urllib's ``getproxies``/
``proxy_bypass`` and aiohttp's use of them:

- ``http_proxy``, ``https_proxy``, ``ws_proxy``, ``wss_proxy`` (either case; lowercase
  wins, and an empty lowercase value unsets the uppercase one) pick the proxy for a URL
  of that scheme. ``all_proxy`` is only used when asked (``use_all_proxy=True``), since
  aiohttp ignores it and it often names a SOCKS proxy.
- Under CGI (``REQUEST_METHOD`` set) uppercase ``HTTP_PROXY`` is ignored: a client
  request header ``Proxy:`` lands there ("httpoxy").
- A proxy given as ``host:port`` is taken as ``http://host:port``. Proxies spoken to over
  TLS (``https://`` proxy URLs) are not supported and are skipped with a warning.
- ``no_proxy``: ``*`` bypasses everything; other entries are comma-separated host names
  matching the host and its subdomains (a leading dot is ignored), optionally with a
  ``:port``, IP addresses, or CIDR networks.
- Proxy credentials come from the proxy URL's userinfo, else from ``.netrc`` for the
  proxy host.

These functions read files (``.netrc``): a session calls them in a worker thread.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import netrc
import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from yarl import URL

from ._auth import BasicAuth

__all__ = [
    "EnvSnapshot",
    "ProxyInfo",
    "basicauth_from_netrc",
    "get_env_proxy_for_url",
    "netrc_auth",
    "netrc_from_env",
    "proxies_from_env",
    "proxy_bypass",
    "proxy_for_url",
    "strip_auth_from_url",
]

client_logger = logging.getLogger("treadle.client")

_SCHEMES = ("http", "https", "ws", "wss")


class ProxyInfo(NamedTuple):
    proxy: URL
    proxy_auth: BasicAuth | None


def strip_auth_from_url(url: URL) -> tuple[URL, BasicAuth | None]:
    """The URL without userinfo, and the userinfo as ``BasicAuth`` (None if absent)."""
    if url.raw_user is None and url.raw_password is None:
        return url, None
    return url.with_user(None), BasicAuth(url.user or "", url.password or "")


# -- .netrc ------------------------------------------------------------------------------


def _netrc_path(environ: Mapping[str, str]) -> Path | None:
    path = environ.get("NETRC")
    if path is not None:
        return Path(path)
    home = environ.get("HOME") or environ.get("USERPROFILE")
    if home is None:
        try:
            return Path.home() / (".netrc" if os.name != "nt" else "_netrc")
        except RuntimeError:
            return None
    return Path(home) / (".netrc" if os.name != "nt" else "_netrc")


def netrc_from_env(environ: Mapping[str, str] | None = None) -> netrc.netrc | None:
    """The parsed ``$NETRC`` (else ``~/.netrc``), or None when absent or unreadable.

    A file that was asked for (``NETRC`` set, or the default file exists) but cannot be
    read or parsed is logged as a warning rather than failing every request.
    """
    env = os.environ if environ is None else environ
    path = _netrc_path(env)
    if path is None:
        return None
    try:
        return netrc.netrc(str(path))
    except netrc.NetrcParseError as exc:
        client_logger.warning("Could not parse .netrc file: %s", exc)
    except OSError as exc:
        exists = False
        with contextlib.suppress(OSError):
            exists = path.is_file()
        if "NETRC" in env or exists:
            client_logger.warning("Could not read .netrc file: %s", exc)
    return None


def basicauth_from_netrc(netrc_obj: netrc.netrc | None, host: str) -> BasicAuth:
    """Credentials for ``host`` (or the ``default`` entry); ``LookupError`` if none."""
    if netrc_obj is None:
        raise LookupError("No .netrc file found")
    entry = netrc_obj.authenticators(host)
    if entry is None:
        raise LookupError(f"No entry for {host} found in the .netrc file")
    login, account, password = entry
    return BasicAuth(login or account or "", password or "")


def netrc_auth(host: str, environ: Mapping[str, str] | None = None) -> BasicAuth | None:
    """``BasicAuth`` for ``host`` from the environment's ``.netrc``, or None."""
    try:
        return basicauth_from_netrc(netrc_from_env(environ), host)
    except (LookupError, ValueError):
        return None  # ValueError: a login with ":" cannot be sent as Basic


# -- proxies -----------------------------------------------------------------------------


def _proxy_vars(env: Mapping[str, str]) -> dict[str, str]:
    """``{scheme: value}`` of the ``*_proxy`` variables, urllib's precedence rules."""
    found: dict[str, str] = {}
    cgi = "REQUEST_METHOD" in env
    for name, value in env.items():
        lower = name.lower()
        if value and lower.endswith("_proxy") and not (cgi and name == "HTTP_PROXY"):
            found[lower[:-6]] = value
    for name, value in env.items():
        if name.endswith("_proxy") and name.islower():
            if value:
                found[name[:-6]] = value
            else:
                found.pop(name[:-6], None)
    return found


def _parse_proxy(value: str) -> URL | None:
    text = value.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        url = URL(text)
    except ValueError:
        client_logger.warning("Ignoring a proxy variable that is not a URL")
        return None
    if url.scheme in ("https", "wss"):
        client_logger.warning(
            "%s proxies %s are not supported, ignoring", url.scheme.upper(), url.with_user(None)
        )
        return None
    if url.scheme != "http" or not url.host:
        client_logger.warning("Ignoring proxy %s: not an http:// URL", url.with_user(None))
        return None
    return url


def proxies_from_env(
    environ: Mapping[str, str] | None = None, *, use_all_proxy: bool = False
) -> dict[str, ProxyInfo]:
    """``{scheme: ProxyInfo}`` for the schemes whose proxy variable is set and usable."""
    env = os.environ if environ is None else environ
    values = _proxy_vars(env)
    result: dict[str, ProxyInfo] = {}
    netrc_obj: netrc.netrc | None = None
    netrc_loaded = False
    for scheme in _SCHEMES:
        value = values.get(scheme)
        if value is None and use_all_proxy:
            value = values.get("all")
        if value is None:
            continue
        url = _parse_proxy(value)
        if url is None:
            continue
        proxy, auth = strip_auth_from_url(url)
        if auth is None and proxy.host is not None:
            if not netrc_loaded:
                netrc_obj, netrc_loaded = netrc_from_env(env), True
            try:
                auth = basicauth_from_netrc(netrc_obj, proxy.host)
            except (LookupError, ValueError):
                auth = None
        result[scheme] = ProxyInfo(proxy, auth)
    return result


def _no_proxy_entries(env: Mapping[str, str]) -> list[str]:
    value = _proxy_vars(env).get("no", "")
    return [entry.strip() for entry in value.split(",") if entry.strip()]


def proxy_bypass(host: str, port: int | None, no_proxy: list[str]) -> bool:
    """Whether ``no_proxy`` entries exempt ``host`` (and ``port``) from proxying."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy:
        entry = raw.lower()
        if entry == "*":
            return True
        entry_port: int | None = None
        if entry.startswith("["):  # [v6] or [v6]:port
            bracket = entry.find("]")
            rest = entry[bracket + 1 :]
            if rest.startswith(":") and rest[1:].isdigit():
                entry_port = int(rest[1:])
            entry = entry[1:bracket] if bracket > 0 else entry
        elif entry.count(":") == 1:
            name, _, port_text = entry.partition(":")
            if port_text.isdigit():
                entry, entry_port = name, int(port_text)
        if entry_port is not None and entry_port != port:
            continue
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        entry = entry.lstrip(".").rstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def proxy_for_url(
    url: URL, environ: Mapping[str, str] | None = None, *, use_all_proxy: bool = False
) -> ProxyInfo | None:
    """The environment's proxy for ``url`` (None when unset or bypassed by no_proxy)."""
    env = os.environ if environ is None else environ
    if url.host is not None and proxy_bypass(url.host, url.port, _no_proxy_entries(env)):
        return None
    return proxies_from_env(env, use_all_proxy=use_all_proxy).get(url.scheme)


def get_env_proxy_for_url(
    url: URL, environ: Mapping[str, str] | None = None
) -> tuple[URL, BasicAuth | None]:
    """aiohttp's helper: ``(proxy, proxy_auth)`` for ``url``, or ``LookupError``."""
    env = os.environ if environ is None else environ
    if url.host is not None and proxy_bypass(url.host, url.port, _no_proxy_entries(env)):
        raise LookupError(f"Proxying is disallowed for {url.host!r}")
    info = proxies_from_env(env).get(url.scheme)
    if info is None:
        raise LookupError(f"No proxies found for {url} in the env")
    return info.proxy, info.proxy_auth


class EnvSnapshot:
    """What ``trust_env`` takes from the environment, read once (per session).

    Reading it opens ``.netrc``: a session makes this object in a worker thread on its
    first request under ``trust_env`` (as aiohttp reads ``.netrc`` off the event loop)
    and keeps it, so no request reads files or scans the environment on the loop.
    """

    __slots__ = ("netrc", "no_proxy", "proxies")

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.netrc = netrc_from_env(env)
        self.no_proxy = _no_proxy_entries(env)
        self.proxies = proxies_from_env(env)

    def proxy_for(self, url: URL) -> ProxyInfo | None:
        """As :func:`proxy_for_url`, from the snapshot."""
        if url.host is not None and proxy_bypass(url.host, url.port, self.no_proxy):
            return None
        return self.proxies.get(url.scheme)

    def auth_for(self, host: str) -> BasicAuth | None:
        """As :func:`netrc_auth`, from the snapshot."""
        try:
            return basicauth_from_netrc(self.netrc, host)
        except (LookupError, ValueError):
            return None  # ValueError: a login with ":" cannot be sent as Basic
