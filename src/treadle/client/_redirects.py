"""Redirect rules (RFC 9110 section 15.4), kept pure so the session only applies them.

Given a 3xx response's status and ``Location`` and the request that got it,
:func:`plan_redirect` says where to go next, with which method, whether the body goes
along, and which request header fields must not follow:

- 301/302/303/307/308 redirect. 303 turns any method but HEAD into GET (15.4.4);
  301/302 turn POST into GET (15.4.2/15.4.3 allow it, and every browser does it);
  307/308 keep method and body (15.4.8/15.4.9).
- When the method becomes GET, the body is dropped with its content-specific header
  fields (15.4, "when a request method is changed to GET or HEAD").
- ``Location`` is resolved against the request URL (10.2.2), relative and
  scheme-relative references included; a Location without a fragment inherits the
  request URL's (10.2.2).
- Only http and https targets are followed: anything else raises
  ``NonHttpUrlRedirectClientError``; a Location that is no URL raises
  ``InvalidUrlRedirectClientError``.
- Credentials do not follow to another origin (15.4, "consider removing ... fields that
  are not automatically generated"): Authorization, Cookie and Proxy-Authorization are
  stripped, and so is an explicit Host. An https -> http step is always cross-origin;
  ``downgrade`` flags it for callers that also drop e.g. Referer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from multidict import CIMultiDict, istr
from yarl import URL

from ._exceptions import InvalidUrlRedirectClientError, NonHttpUrlRedirectClientError

__all__ = [
    "CONTENT_HEADERS",
    "CROSS_ORIGIN_HEADERS",
    "REDIRECT_STATUSES",
    "RedirectPlan",
    "apply_redirect_headers",
    "plan_redirect",
    "redirect_location",
    "redirect_method",
]

REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})

CROSS_ORIGIN_HEADERS: Final = (
    istr("Authorization"),
    istr("Cookie"),
    istr("Proxy-Authorization"),
    istr("Host"),
)

# RFC 9110 15.4's list of content-specific fields, plus the framing fields of the body
# that is no longer sent.
CONTENT_HEADERS: Final = (
    istr("Content-Encoding"),
    istr("Content-Language"),
    istr("Content-Location"),
    istr("Content-Type"),
    istr("Content-Length"),
    istr("Digest"),
    istr("Last-Modified"),
    istr("Transfer-Encoding"),
    istr("Expect"),
)

_FOLLOWED_SCHEMES: Final = frozenset({"http", "https"})


def redirect_method(status: int, method: str) -> tuple[str, bool]:
    """The method of the follow-up request, and whether the body is dropped."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET", method != "GET"
    return method, False


def redirect_location(headers: CIMultiDict[str] | object) -> str | None:
    """The redirect target text (``Location``, else the obsolete ``URI``), None if absent.

    An empty value counts as absent: the 3xx response is then the final response, as in
    aiohttp.
    """
    get = getattr(headers, "get", None)
    if get is None:
        return None
    value = get("Location") or get("URI")
    return value or None


@dataclass(frozen=True, slots=True)
class RedirectPlan:
    """Where and how to send the next request of a redirect chain."""

    url: URL
    method: str
    drop_body: bool
    cross_origin: bool
    downgrade: bool


def _resolve(location: str, base: URL, *, encoded: bool) -> URL:
    try:
        target = URL(location, encoded=encoded)
    except (ValueError, TypeError) as exc:
        raise InvalidUrlRedirectClientError(
            location, "Server attempted redirecting to a location that does not look like a URL"
        ) from exc
    scheme = target.scheme
    if scheme and scheme not in _FOLLOWED_SCHEMES:
        raise NonHttpUrlRedirectClientError(location)
    if not scheme:
        try:
            target = base.join(target)
        except ValueError as exc:
            raise InvalidUrlRedirectClientError(location, "Invalid redirect URL") from exc
    if not target.host:
        raise InvalidUrlRedirectClientError(location, "Invalid redirect URL origin")
    try:
        target.origin()
    except ValueError as exc:
        raise InvalidUrlRedirectClientError(location, "Invalid redirect URL origin") from exc
    if not target.raw_fragment and base.raw_fragment:
        # RFC 9110 10.2.2: the Location inherits the fragment it does not have.
        target = target.with_fragment(base.fragment)
    return target


def _origin(url: URL) -> tuple[str, str | None, int | None]:
    """RFC 6454 origin; ``http://h:80`` and ``http://h`` are the same (yarl's differ)."""
    return url.scheme, url.host, url.port


def plan_redirect(
    status: int,
    location: str,
    url: URL,
    method: str,
    *,
    requote_redirect_url: bool = True,
) -> RedirectPlan:
    """The next request of a redirect from ``url`` (requested with ``method``).

    ``status`` must be one of :data:`REDIRECT_STATUSES`. ``requote_redirect_url=False``
    takes the Location's percent-encoding as is (aiohttp's session option).
    """
    if status not in REDIRECT_STATUSES:
        raise ValueError(f"{status} is not a redirect status")
    target = _resolve(location, url, encoded=not requote_redirect_url)
    new_method, drop_body = redirect_method(status, method)
    return RedirectPlan(
        url=target,
        method=new_method,
        drop_body=drop_body,
        cross_origin=_origin(target) != _origin(url),
        downgrade=url.scheme == "https" and target.scheme == "http",
    )


def _remove(headers: CIMultiDict[str], names: Iterable[str]) -> None:
    for name in names:
        headers.popall(name, None)


def apply_redirect_headers(headers: CIMultiDict[str], plan: RedirectPlan) -> None:
    """Strip, in place, the request header fields that must not follow ``plan``."""
    if plan.cross_origin:
        _remove(headers, CROSS_ORIGIN_HEADERS)
    if plan.drop_body:
        _remove(headers, CONTENT_HEADERS)
