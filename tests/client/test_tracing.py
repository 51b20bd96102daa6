"""TraceConfig, Signal and Trace on their own: what a session relies on."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

import treadle.client._tracing as tracing
from treadle.client._tracing import Signal, Trace, TraceConfig

# (signal name, send method name, positional args of the send method, params class, fields)
URL_ = URL("http://example.com/path")
HEADERS: CIMultiDict[str] = CIMultiDict({"X-A": "1"})
RESPONSE = object()
ERROR = ValueError("boom")
CASES: list[tuple[str, str, tuple[Any, ...], type[Any]]] = [
    (
        "on_request_start",
        "send_request_start",
        ("GET", URL_, HEADERS),
        tracing.TraceRequestStartParams,
    ),
    (
        "on_request_chunk_sent",
        "send_request_chunk_sent",
        ("POST", URL_, b"abc"),
        tracing.TraceRequestChunkSentParams,
    ),
    (
        "on_response_chunk_received",
        "send_response_chunk_received",
        ("GET", URL_, b"xyz"),
        tracing.TraceResponseChunkReceivedParams,
    ),
    (
        "on_request_end",
        "send_request_end",
        ("GET", URL_, HEADERS, RESPONSE),
        tracing.TraceRequestEndParams,
    ),
    (
        "on_request_exception",
        "send_request_exception",
        ("GET", URL_, HEADERS, ERROR),
        tracing.TraceRequestExceptionParams,
    ),
    (
        "on_request_redirect",
        "send_request_redirect",
        ("GET", URL_, HEADERS, RESPONSE),
        tracing.TraceRequestRedirectParams,
    ),
    (
        "on_connection_queued_start",
        "send_connection_queued_start",
        (),
        tracing.TraceConnectionQueuedStartParams,
    ),
    (
        "on_connection_queued_end",
        "send_connection_queued_end",
        (),
        tracing.TraceConnectionQueuedEndParams,
    ),
    (
        "on_connection_create_start",
        "send_connection_create_start",
        (),
        tracing.TraceConnectionCreateStartParams,
    ),
    (
        "on_connection_create_end",
        "send_connection_create_end",
        (),
        tracing.TraceConnectionCreateEndParams,
    ),
    (
        "on_connection_reuseconn",
        "send_connection_reuseconn",
        (),
        tracing.TraceConnectionReuseconnParams,
    ),
    (
        "on_dns_resolvehost_start",
        "send_dns_resolvehost_start",
        ("example.com",),
        tracing.TraceDnsResolveHostStartParams,
    ),
    (
        "on_dns_resolvehost_end",
        "send_dns_resolvehost_end",
        ("example.com",),
        tracing.TraceDnsResolveHostEndParams,
    ),
    ("on_dns_cache_hit", "send_dns_cache_hit", ("example.com",), tracing.TraceDnsCacheHitParams),
    ("on_dns_cache_miss", "send_dns_cache_miss", ("example.com",), tracing.TraceDnsCacheMissParams),
    (
        "on_request_headers_sent",
        "send_request_headers",
        ("GET", URL_, HEADERS),
        tracing.TraceRequestHeadersSentParams,
    ),
]


@pytest.mark.parametrize(
    ("signal", "method", "args", "params_cls"), CASES, ids=[c[0] for c in CASES]
)
async def test_each_send_reaches_its_signal_with_aiohttp_params(
    signal: str, method: str, args: tuple[Any, ...], params_cls: type[Any]
) -> None:
    config = TraceConfig()
    seen: list[tuple[Any, SimpleNamespace, Any]] = []

    async def handler(session: Any, ctx: SimpleNamespace, params: Any) -> None:
        seen.append((session, ctx, params))

    getattr(config, signal).append(handler)
    # A handler on another signal must not fire.
    other = "on_request_end" if signal != "on_request_end" else "on_request_start"
    getattr(config, other).append(lambda *a: pytest.fail("wrong signal"))
    config.freeze()
    session = object()
    ctx = config.trace_config_ctx(trace_request_ctx={"id": 7})
    await getattr(Trace(session, config, ctx), method)(*args)

    assert len(seen) == 1
    got_session, got_ctx, params = seen[0]
    assert got_session is session and got_ctx is ctx
    assert got_ctx.trace_request_ctx == {"id": 7}
    assert type(params) is params_cls
    values = tuple(getattr(params, f.name) for f in dataclasses.fields(params))
    assert len(values) == len(args)
    assert all(got is sent for got, sent in zip(values, args, strict=True))


def test_params_fields_match_aiohttp() -> None:
    import aiohttp.tracing as theirs
    import attr  # aiohttp's params are attrs classes

    for name in tracing.__all__:
        if name.endswith("Params"):
            ours = [f.name for f in dataclasses.fields(getattr(tracing, name))]
            their_cls = getattr(theirs, name)
            assert ours == [a.name for a in attr.fields(their_cls)], name
            # Read-only (3.11's frozen slotted dataclasses raise TypeError for unknown names).
            with pytest.raises((dataclasses.FrozenInstanceError, TypeError)):
                setattr(getattr(tracing, name)(*range(len(ours))), "x", 1)  # noqa: B010


def test_trace_config_has_every_aiohttp_signal() -> None:
    import aiohttp

    theirs = {n for n in dir(aiohttp.TraceConfig) if n.startswith("on_")}
    ours = {n for n in dir(TraceConfig) if n.startswith("on_")}
    assert ours == theirs
    assert len(ours) == 16


async def test_handlers_run_in_order_and_errors_propagate() -> None:
    config = TraceConfig()
    order: list[str] = []

    async def first(*_: Any) -> None:
        order.append("first")

    async def second(*_: Any) -> None:
        order.append("second")
        raise RuntimeError("handler failed")

    async def third(*_: Any) -> None:
        order.append("third")

    config.on_request_start.extend([first, second, third])
    config.freeze()
    trace = Trace(None, config, config.trace_config_ctx())
    with pytest.raises(RuntimeError, match="handler failed"):
        await trace.send_request_start("GET", URL_, HEADERS)
    assert order == ["first", "second"]


async def test_send_on_unfrozen_signal_is_refused() -> None:
    config = TraceConfig()

    async def handler(*_: Any) -> None:
        pass

    config.on_dns_cache_hit.append(handler)
    trace = Trace(None, config, config.trace_config_ctx())
    with pytest.raises(RuntimeError, match="non-frozen"):
        await trace.send_dns_cache_hit("h")


async def test_empty_signal_sends_nothing_even_unfrozen() -> None:
    # The fast path: no handler, no params object, no frozen check needed.
    config = TraceConfig()
    trace = Trace(None, config, config.trace_config_ctx())
    await trace.send_request_start("GET", URL_, HEADERS)
    assert not config.on_request_start


def test_frozen_signal_refuses_every_mutation() -> None:
    async def handler(*_: Any) -> None:
        pass

    signal: Signal[Any] = Signal(owner="me")
    signal.append(handler)
    signal.freeze()
    assert signal.frozen
    mutations = [
        lambda: signal.append(handler),
        lambda: signal.extend([handler]),
        lambda: signal.insert(0, handler),
        lambda: signal.remove(handler),
        lambda: signal.pop(),
        lambda: signal.clear(),
        lambda: signal.reverse(),
        lambda: signal.sort(key=id),
        lambda: signal.__setitem__(0, handler),
        lambda: signal.__delitem__(0),
        lambda: signal.__iadd__([handler]),
        lambda: signal.__imul__(2),
    ]
    for mutate in mutations:
        with pytest.raises(RuntimeError, match="frozen"):
            mutate()
    assert list(signal) == [handler]
    assert "frozen=True" in repr(signal)


def test_unfrozen_signal_is_a_list() -> None:
    async def a(*_: Any) -> None:
        pass

    async def b(*_: Any) -> None:
        pass

    signal: Signal[Any] = Signal(owner=None)
    signal += [a]
    signal.insert(0, b)
    signal[1] = a
    assert list(signal) == [b, a]
    del signal[0]
    assert signal == [a] and len(signal) == 1


def test_freeze_freezes_all_signals() -> None:
    config = TraceConfig()
    config.freeze()
    for name in dir(config):
        if name.startswith("on_"):
            assert getattr(config, name).frozen, name


def test_custom_context_factory() -> None:
    class Ctx(SimpleNamespace):
        pass

    config = TraceConfig(trace_config_ctx_factory=Ctx)
    ctx = config.trace_config_ctx("request-ctx")
    assert isinstance(ctx, Ctx)
    assert ctx.trace_request_ctx == "request-ctx"
    assert TraceConfig().trace_config_ctx().trace_request_ctx is None


def test_treadle_trace_config_works_with_aiohttp_handlers_shape() -> None:
    # A handler written for aiohttp (session, ctx, params) keeps the same attributes.
    params = tracing.TraceRequestEndParams("GET", URL_, HEADERS, RESPONSE)
    assert (params.method, params.url, params.headers, params.response) == (
        "GET",
        URL_,
        HEADERS,
        RESPONSE,
    )
