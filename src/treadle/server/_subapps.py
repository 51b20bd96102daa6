"""Resources that hand a request to a sub-application's router.

``PrefixedSubAppResource`` mounts an app under a path prefix (``app.add_subapp``);
``MatchedSubAppResource`` mounts one behind a rule, such as the ``Host`` being a given
domain or matching ``*.example.com`` (``app.add_domain``). The app is anything with a
``router`` satisfying :class:`~treadle.server._abc.SubAppRouter`, so the
``Application`` written later plugs in unchanged.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterator
from typing import Any

from yarl import URL

from ._abc import SubApplication
from ._exceptions import HTTPMethodNotAllowed
from ._matchinfo import AbstractRoute
from ._resources import NO_METHODS, AbstractResource, PrefixResource, Resolved


def _delegate(app: SubApplication, method: str, path: str, host: str | None) -> Resolved:
    match_info = app.router.resolve(method, path, host)
    match_info.add_app(app)
    exc = match_info.http_exception
    if isinstance(exc, HTTPMethodNotAllowed):
        return match_info, exc.allowed_methods
    return match_info, NO_METHODS


class PrefixedSubAppResource(PrefixResource):
    """Every path at or below ``prefix`` goes to the sub-application's router.

    The sub-app's own resources get the prefix prepended, so its router resolves the
    full path and its ``url_for`` builds full URLs.
    """

    def __init__(self, prefix: str, app: SubApplication) -> None:
        super().__init__(prefix)
        self._app = app
        for resource in app.router.resources():
            resource.add_prefix(prefix)

    @property
    def app(self) -> SubApplication:
        return self._app

    def add_prefix(self, prefix: str) -> None:
        super().add_prefix(prefix)
        for resource in self._app.router.resources():
            resource.add_prefix(prefix)

    def url_for(self, *args: str, **kwargs: Any) -> URL:
        raise RuntimeError(".url_for() is not supported by sub-application root")

    def get_info(self) -> dict[str, Any]:
        return {"app": self._app, "prefix": self._prefix}

    def resolve(self, method: str, path: str, host: str | None = None) -> Resolved:
        if not self._under(path):
            return None, NO_METHODS
        return _delegate(self._app, method, path, host)

    def __len__(self) -> int:
        return len(self._app.router.routes())

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._app.router.routes())

    def __repr__(self) -> str:
        return f"<PrefixedSubAppResource {self._prefix} -> {self._app!r}>"


class AbstractRuleMatching(abc.ABC):
    """A condition on the request deciding whether a sub-application handles it."""

    @abc.abstractmethod
    def match(self, host: str | None) -> bool:
        """True if a request with this ``Host`` satisfies the rule."""

    @abc.abstractmethod
    def get_info(self) -> dict[str, Any]:
        """Introspection data."""

    @property
    @abc.abstractmethod
    def canonical(self) -> str:
        """The rule as text."""


def _strip_default_port(host: str) -> str:
    host = host.lower()
    if host.endswith(":80"):
        host = host[:-3]
    return host.rstrip(".")


class Domain(AbstractRuleMatching):
    """The ``Host`` header names exactly this domain (RFC 9110 7.2), case-insensitively."""

    re_part = re.compile(r"(?!-)[a-z\d-]{1,63}(?<!-)")

    def __init__(self, domain: str) -> None:
        self._domain = self.validation(domain)

    @property
    def canonical(self) -> str:
        return self._domain

    def validation(self, domain: str) -> str:
        """Normalise ``domain`` (lower case, no trailing dot, no ``:80``) or refuse it."""
        if not isinstance(domain, str):
            raise TypeError("Domain must be str")
        domain = domain.rstrip(".").lower()
        if not domain:
            raise ValueError("Domain cannot be empty")
        if "://" in domain:
            raise ValueError("Scheme not supported")
        try:
            url = URL("http://" + domain)
        except ValueError as exc:
            raise ValueError(f"Domain not valid: {exc}") from None
        host = url.raw_host
        if not host or url.raw_path not in ("", "/") or url.raw_query_string:
            raise ValueError("Domain not valid")
        if not all(self.re_part.fullmatch(label) for label in host.split(".")):
            raise ValueError("Domain not valid")
        if url.port == 80:
            return host
        return f"{host}:{url.port}"

    def match(self, host: str | None) -> bool:
        if not host:
            return False
        return self.match_domain(_strip_default_port(host))

    def match_domain(self, host: str) -> bool:
        return host == self._domain

    def get_info(self) -> dict[str, Any]:
        return {"domain": self._domain}


class MaskDomain(Domain):
    """A domain with ``*`` wildcards: ``*.example.com`` matches ``api.example.com``."""

    re_part = re.compile(r"(?!-)[a-z\d*-]{1,63}(?<!-)")

    def __init__(self, domain: str) -> None:
        super().__init__(domain)
        # As aiohttp: "*" stands for any run of characters, dots included.
        mask = ".*".join(re.escape(piece) for piece in self._domain.split("*"))
        self._mask = re.compile(mask)

    @property
    def canonical(self) -> str:
        return self._mask.pattern

    def match_domain(self, host: str) -> bool:
        return self._mask.fullmatch(host) is not None


class MatchedSubAppResource(PrefixedSubAppResource):
    """Requests satisfying ``rule`` go to the sub-application's router."""

    def __init__(self, rule: AbstractRuleMatching, app: SubApplication) -> None:
        AbstractResource.__init__(self)
        self._set_prefix("")
        self._app = app
        self._rule = rule

    @property
    def canonical(self) -> str:
        return self._rule.canonical

    @property
    def rule(self) -> AbstractRuleMatching:
        return self._rule

    def get_info(self) -> dict[str, Any]:
        return {"app": self._app, "rule": self._rule}

    def resolve(self, method: str, path: str, host: str | None = None) -> Resolved:
        if not self._rule.match(host):
            return None, NO_METHODS
        return _delegate(self._app, method, path, host)

    def __repr__(self) -> str:
        return f"<MatchedSubAppResource -> {self._app!r}>"


def domain_rule(domain: str) -> Domain:
    """``MaskDomain`` if ``domain`` has a ``*`` in it, else ``Domain`` (``add_domain``)."""
    return MaskDomain(domain) if "*" in domain else Domain(domain)


__all__ = [
    "AbstractRuleMatching",
    "Domain",
    "MaskDomain",
    "MatchedSubAppResource",
    "PrefixedSubAppResource",
    "domain_rule",
]
