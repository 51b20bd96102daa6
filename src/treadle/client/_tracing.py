"""Request tracing: aiohttp's ``TraceConfig`` signals, params and per-request ``Trace``.

A ``TraceConfig`` holds one :class:`Signal` per event of a request's life (start, chunks,
connection queueing/creation/reuse, DNS, redirects, end or exception). A session freezes
its configs, and builds one :class:`Trace` per request per config; the request calls the
``Trace.send_*`` coroutines at each step, which await every handler in order with
``(session, trace_config_ctx, params)``, as aiohttp does.

Handlers cost nothing when none are registered: ``send_*`` returns before building its
params object if the signal is empty.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Generic, SupportsIndex, TypeVar, overload

if TYPE_CHECKING:
    from multidict import CIMultiDict
    from yarl import URL

__all__ = [
    "Signal",
    "Trace",
    "TraceConfig",
    "TraceConnectionCreateEndParams",
    "TraceConnectionCreateStartParams",
    "TraceConnectionQueuedEndParams",
    "TraceConnectionQueuedStartParams",
    "TraceConnectionReuseconnParams",
    "TraceDnsCacheHitParams",
    "TraceDnsCacheMissParams",
    "TraceDnsResolveHostEndParams",
    "TraceDnsResolveHostStartParams",
    "TraceRequestChunkSentParams",
    "TraceRequestEndParams",
    "TraceRequestExceptionParams",
    "TraceRequestHeadersSentParams",
    "TraceRequestRedirectParams",
    "TraceRequestStartParams",
    "TraceResponseChunkReceivedParams",
]

_P = TypeVar("_P")
_Handler = Callable[[Any, SimpleNamespace, _P], Awaitable[object]]


class Signal(list[_Handler[_P]], Generic[_P]):
    """A list of async handlers that becomes read-only once frozen (aiosignal's shape).

    ``send`` refuses an unfrozen signal so that handlers cannot be added while a request
    is being traced; ``ClientSession`` freezes its trace configs when it is created.
    """

    __slots__ = ("_frozen", "_owner")

    def __init__(self, owner: object) -> None:
        super().__init__()
        self._owner = owner
        self._frozen = False

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        self._frozen = True

    def __repr__(self) -> str:
        return f"<Signal owner={self._owner!r}, frozen={self._frozen}, {list(self)!r}>"

    async def send(self, session: Any, ctx: SimpleNamespace, params: _P) -> None:
        if not self._frozen:
            raise RuntimeError("Cannot send a non-frozen signal; call freeze() first")
        for handler in self:
            await handler(session, ctx, params)

    def _check(self) -> None:
        if self._frozen:
            raise RuntimeError("Cannot modify a frozen signal")

    # Every mutating list method checks first; reading stays the plain list's.
    def append(self, handler: _Handler[_P]) -> None:
        self._check()
        super().append(handler)

    def extend(self, handlers: Iterable[_Handler[_P]]) -> None:
        self._check()
        super().extend(handlers)

    def insert(self, index: SupportsIndex, handler: _Handler[_P]) -> None:
        self._check()
        super().insert(index, handler)

    def remove(self, handler: _Handler[_P]) -> None:
        self._check()
        super().remove(handler)

    def pop(self, index: SupportsIndex = -1) -> _Handler[_P]:
        self._check()
        return super().pop(index)

    def clear(self) -> None:
        self._check()
        super().clear()

    def reverse(self) -> None:
        self._check()
        super().reverse()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self._check()
        super().sort(*args, **kwargs)

    @overload
    def __setitem__(self, index: SupportsIndex, value: _Handler[_P]) -> None: ...
    @overload
    def __setitem__(self, index: slice, value: Iterable[_Handler[_P]]) -> None: ...
    def __setitem__(self, index: Any, value: Any) -> None:
        self._check()
        super().__setitem__(index, value)

    def __delitem__(self, index: SupportsIndex | slice) -> None:
        self._check()
        super().__delitem__(index)

    def __iadd__(self, handlers: Iterable[_Handler[_P]]) -> Signal[_P]:  # type: ignore[override,misc]
        self._check()
        super().__iadd__(handlers)
        return self

    def __imul__(self, count: SupportsIndex) -> Signal[_P]:
        self._check()
        super().__imul__(count)
        return self


# -- params: the third argument of every handler (aiohttp's field names) -----------------


@dataclass(frozen=True, slots=True)
class TraceRequestStartParams:
    method: str
    url: URL
    headers: CIMultiDict[str]


@dataclass(frozen=True, slots=True)
class TraceRequestChunkSentParams:
    method: str
    url: URL
    chunk: bytes


@dataclass(frozen=True, slots=True)
class TraceResponseChunkReceivedParams:
    method: str
    url: URL
    chunk: bytes


@dataclass(frozen=True, slots=True)
class TraceRequestEndParams:
    method: str
    url: URL
    headers: CIMultiDict[str]
    response: Any


@dataclass(frozen=True, slots=True)
class TraceRequestExceptionParams:
    method: str
    url: URL
    headers: CIMultiDict[str]
    exception: BaseException


@dataclass(frozen=True, slots=True)
class TraceRequestRedirectParams:
    method: str
    url: URL
    headers: CIMultiDict[str]
    response: Any


@dataclass(frozen=True, slots=True)
class TraceConnectionQueuedStartParams:
    pass


@dataclass(frozen=True, slots=True)
class TraceConnectionQueuedEndParams:
    pass


@dataclass(frozen=True, slots=True)
class TraceConnectionCreateStartParams:
    pass


@dataclass(frozen=True, slots=True)
class TraceConnectionCreateEndParams:
    pass


@dataclass(frozen=True, slots=True)
class TraceConnectionReuseconnParams:
    pass


@dataclass(frozen=True, slots=True)
class TraceDnsResolveHostStartParams:
    host: str


@dataclass(frozen=True, slots=True)
class TraceDnsResolveHostEndParams:
    host: str


@dataclass(frozen=True, slots=True)
class TraceDnsCacheHitParams:
    host: str


@dataclass(frozen=True, slots=True)
class TraceDnsCacheMissParams:
    host: str


@dataclass(frozen=True, slots=True)
class TraceRequestHeadersSentParams:
    method: str
    url: URL
    headers: CIMultiDict[str]


class TraceConfig:
    """The signals a session fires for each request (aiohttp's ``TraceConfig``).

    ``trace_config_ctx_factory`` builds the per-request context handed to every handler;
    it is called with ``trace_request_ctx=`` (the request's ``trace_request_ctx``).
    """

    __slots__ = (
        "_factory",
        "_on_connection_create_end",
        "_on_connection_create_start",
        "_on_connection_queued_end",
        "_on_connection_queued_start",
        "_on_connection_reuseconn",
        "_on_dns_cache_hit",
        "_on_dns_cache_miss",
        "_on_dns_resolvehost_end",
        "_on_dns_resolvehost_start",
        "_on_request_chunk_sent",
        "_on_request_end",
        "_on_request_exception",
        "_on_request_headers_sent",
        "_on_request_redirect",
        "_on_request_start",
        "_on_response_chunk_received",
    )

    def __init__(
        self, trace_config_ctx_factory: Callable[..., SimpleNamespace] = SimpleNamespace
    ) -> None:
        self._factory = trace_config_ctx_factory
        self._on_request_start: Signal[TraceRequestStartParams] = Signal(self)
        self._on_request_chunk_sent: Signal[TraceRequestChunkSentParams] = Signal(self)
        self._on_response_chunk_received: Signal[TraceResponseChunkReceivedParams] = Signal(self)
        self._on_request_end: Signal[TraceRequestEndParams] = Signal(self)
        self._on_request_exception: Signal[TraceRequestExceptionParams] = Signal(self)
        self._on_request_redirect: Signal[TraceRequestRedirectParams] = Signal(self)
        self._on_connection_queued_start: Signal[TraceConnectionQueuedStartParams] = Signal(self)
        self._on_connection_queued_end: Signal[TraceConnectionQueuedEndParams] = Signal(self)
        self._on_connection_create_start: Signal[TraceConnectionCreateStartParams] = Signal(self)
        self._on_connection_create_end: Signal[TraceConnectionCreateEndParams] = Signal(self)
        self._on_connection_reuseconn: Signal[TraceConnectionReuseconnParams] = Signal(self)
        self._on_dns_resolvehost_start: Signal[TraceDnsResolveHostStartParams] = Signal(self)
        self._on_dns_resolvehost_end: Signal[TraceDnsResolveHostEndParams] = Signal(self)
        self._on_dns_cache_hit: Signal[TraceDnsCacheHitParams] = Signal(self)
        self._on_dns_cache_miss: Signal[TraceDnsCacheMissParams] = Signal(self)
        self._on_request_headers_sent: Signal[TraceRequestHeadersSentParams] = Signal(self)

    def trace_config_ctx(self, trace_request_ctx: Any = None) -> SimpleNamespace:
        """A new context for one request, built by the factory."""
        return self._factory(trace_request_ctx=trace_request_ctx)

    def freeze(self) -> None:
        for name in self.__slots__:
            if name.startswith("_on_"):
                getattr(self, name).freeze()

    @property
    def on_request_start(self) -> Signal[TraceRequestStartParams]:
        return self._on_request_start

    @property
    def on_request_chunk_sent(self) -> Signal[TraceRequestChunkSentParams]:
        return self._on_request_chunk_sent

    @property
    def on_response_chunk_received(self) -> Signal[TraceResponseChunkReceivedParams]:
        return self._on_response_chunk_received

    @property
    def on_request_end(self) -> Signal[TraceRequestEndParams]:
        return self._on_request_end

    @property
    def on_request_exception(self) -> Signal[TraceRequestExceptionParams]:
        return self._on_request_exception

    @property
    def on_request_redirect(self) -> Signal[TraceRequestRedirectParams]:
        return self._on_request_redirect

    @property
    def on_connection_queued_start(self) -> Signal[TraceConnectionQueuedStartParams]:
        return self._on_connection_queued_start

    @property
    def on_connection_queued_end(self) -> Signal[TraceConnectionQueuedEndParams]:
        return self._on_connection_queued_end

    @property
    def on_connection_create_start(self) -> Signal[TraceConnectionCreateStartParams]:
        return self._on_connection_create_start

    @property
    def on_connection_create_end(self) -> Signal[TraceConnectionCreateEndParams]:
        return self._on_connection_create_end

    @property
    def on_connection_reuseconn(self) -> Signal[TraceConnectionReuseconnParams]:
        return self._on_connection_reuseconn

    @property
    def on_dns_resolvehost_start(self) -> Signal[TraceDnsResolveHostStartParams]:
        return self._on_dns_resolvehost_start

    @property
    def on_dns_resolvehost_end(self) -> Signal[TraceDnsResolveHostEndParams]:
        return self._on_dns_resolvehost_end

    @property
    def on_dns_cache_hit(self) -> Signal[TraceDnsCacheHitParams]:
        return self._on_dns_cache_hit

    @property
    def on_dns_cache_miss(self) -> Signal[TraceDnsCacheMissParams]:
        return self._on_dns_cache_miss

    @property
    def on_request_headers_sent(self) -> Signal[TraceRequestHeadersSentParams]:
        return self._on_request_headers_sent


# A shared instance per empty params class: they carry no data.
_QUEUED_START = TraceConnectionQueuedStartParams()
_QUEUED_END = TraceConnectionQueuedEndParams()
_CREATE_START = TraceConnectionCreateStartParams()
_CREATE_END = TraceConnectionCreateEndParams()
_REUSECONN = TraceConnectionReuseconnParams()


class Trace:
    """One request's view of one ``TraceConfig``: the ``send_*`` steps it reports."""

    __slots__ = ("_config", "_ctx", "_session")

    def __init__(
        self, session: Any, trace_config: TraceConfig, trace_config_ctx: SimpleNamespace
    ) -> None:
        self._session = session
        self._config = trace_config
        self._ctx = trace_config_ctx

    async def send_request_start(self, method: str, url: URL, headers: CIMultiDict[str]) -> None:
        signal = self._config._on_request_start
        if signal:
            params = TraceRequestStartParams(method, url, headers)
            await signal.send(self._session, self._ctx, params)

    async def send_request_chunk_sent(self, method: str, url: URL, chunk: bytes) -> None:
        signal = self._config._on_request_chunk_sent
        if signal:
            params = TraceRequestChunkSentParams(method, url, chunk)
            await signal.send(self._session, self._ctx, params)

    async def send_response_chunk_received(self, method: str, url: URL, chunk: bytes) -> None:
        signal = self._config._on_response_chunk_received
        if signal:
            params = TraceResponseChunkReceivedParams(method, url, chunk)
            await signal.send(self._session, self._ctx, params)

    async def send_request_end(
        self, method: str, url: URL, headers: CIMultiDict[str], response: Any
    ) -> None:
        signal = self._config._on_request_end
        if signal:
            params = TraceRequestEndParams(method, url, headers, response)
            await signal.send(self._session, self._ctx, params)

    async def send_request_exception(
        self, method: str, url: URL, headers: CIMultiDict[str], exception: BaseException
    ) -> None:
        signal = self._config._on_request_exception
        if signal:
            params = TraceRequestExceptionParams(method, url, headers, exception)
            await signal.send(self._session, self._ctx, params)

    async def send_request_redirect(
        self, method: str, url: URL, headers: CIMultiDict[str], response: Any
    ) -> None:
        signal = self._config._on_request_redirect
        if signal:
            params = TraceRequestRedirectParams(method, url, headers, response)
            await signal.send(self._session, self._ctx, params)

    async def send_connection_queued_start(self) -> None:
        signal = self._config._on_connection_queued_start
        if signal:
            await signal.send(self._session, self._ctx, _QUEUED_START)

    async def send_connection_queued_end(self) -> None:
        signal = self._config._on_connection_queued_end
        if signal:
            await signal.send(self._session, self._ctx, _QUEUED_END)

    async def send_connection_create_start(self) -> None:
        signal = self._config._on_connection_create_start
        if signal:
            await signal.send(self._session, self._ctx, _CREATE_START)

    async def send_connection_create_end(self) -> None:
        signal = self._config._on_connection_create_end
        if signal:
            await signal.send(self._session, self._ctx, _CREATE_END)

    async def send_connection_reuseconn(self) -> None:
        signal = self._config._on_connection_reuseconn
        if signal:
            await signal.send(self._session, self._ctx, _REUSECONN)

    async def send_dns_resolvehost_start(self, host: str) -> None:
        signal = self._config._on_dns_resolvehost_start
        if signal:
            await signal.send(self._session, self._ctx, TraceDnsResolveHostStartParams(host))

    async def send_dns_resolvehost_end(self, host: str) -> None:
        signal = self._config._on_dns_resolvehost_end
        if signal:
            await signal.send(self._session, self._ctx, TraceDnsResolveHostEndParams(host))

    async def send_dns_cache_hit(self, host: str) -> None:
        signal = self._config._on_dns_cache_hit
        if signal:
            await signal.send(self._session, self._ctx, TraceDnsCacheHitParams(host))

    async def send_dns_cache_miss(self, host: str) -> None:
        signal = self._config._on_dns_cache_miss
        if signal:
            await signal.send(self._session, self._ctx, TraceDnsCacheMissParams(host))

    async def send_request_headers(self, method: str, url: URL, headers: CIMultiDict[str]) -> None:
        signal = self._config._on_request_headers_sent
        if signal:
            params = TraceRequestHeadersSentParams(method, url, headers)
            await signal.send(self._session, self._ctx, params)
