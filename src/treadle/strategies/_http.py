"""Valid HTTP/1.1 messages: the bytes on the wire and the events they parse to.

Everything generated stays inside what RFC 9112 and llhttp's strict mode both accept,
so any conforming parser (treadle's engines included) must parse a case's ``data`` to
exactly its ``events``. Framing fields (Host, Content-Length, Transfer-Encoding,
Connection...) are only added where a case means them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hypothesis import strategies as st

from treadle.protocol import (
    Data,
    EndOfMessage,
    Event,
    Headers,
    InformationalResponse,
    Request,
    Response,
)

__all__ = [
    "FRAMING_NAMES",
    "METHODS",
    "RequestCase",
    "ResponseCase",
    "body_events",
    "chunked_bodies",
    "header_names",
    "header_values",
    "headers",
    "pipelined_requests",
    "requests",
    "response_sequences",
    "responses",
    "split",
    "targets",
]

# -- lexical pieces (RFC 9110 5.6.2, 5.5; RFC 3986 3.3) -------------------------------

TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
VCHAR = bytes(range(0x21, 0x7F))
OBS_TEXT = bytes(range(0x80, 0x100))
# pchar without pct-encoding: unreserved, sub-delims, ":" and "@".
PCHAR = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@"

#: Fields whose meaning a parser acts on: never drawn by :func:`header_names`.
FRAMING_NAMES = frozenset(
    (
        b"host",
        b"content-length",
        b"transfer-encoding",
        b"connection",
        b"proxy-connection",
        b"upgrade",
        b"expect",
        b"keep-alive",
        b"te",
        b"trailer",
    )
)

#: Request methods the generators use (registered ones and a few extension methods).
METHODS = (
    b"GET",
    b"POST",
    b"PUT",
    b"DELETE",
    b"PATCH",
    b"OPTIONS",
    b"HEAD",
    b"TRACE",
    b"PROPFIND",
    b"M-SEARCH",
    b"PURGE",
    b"QUERY",
)

_COMMON_NAMES = (
    b"Accept",
    b"User-Agent",
    b"Cookie",
    b"X-Request-Id",
    b"Cache-Control",
    b"Content-Type",
    b"Date",
    b"ETag",
    b"Server",
    b"Set-Cookie",
    b"Vary",
)


def _case_variants(name: bytes) -> st.SearchStrategy[bytes]:
    """A name as sent by different peers: canonical, lower, upper or mixed case."""
    return st.sampled_from((name, name.lower(), name.upper(), name.title(), name.swapcase()))


def header_names() -> st.SearchStrategy[bytes]:
    """Field names (RFC 9110 5.1 tokens) in any case; never a framing field."""
    return st.one_of(
        st.sampled_from(_COMMON_NAMES).flatmap(_case_variants),
        st.text(TCHAR, min_size=1, max_size=12).map(lambda text: text.encode("ascii")),
    ).filter(lambda name: name.lower() not in FRAMING_NAMES)


@st.composite
def header_values(draw: st.DrawFn, *, allow_obs_text: bool = True) -> bytes:
    """A field value as parsed (RFC 9110 5.5): visible words separated by SP/HTAB, no
    surrounding whitespace; ``allow_obs_text`` adds bytes 0x80-0xFF."""
    alphabet = VCHAR + OBS_TEXT if allow_obs_text else VCHAR
    words = draw(
        st.lists(
            st.binary(min_size=1, max_size=8).map(
                lambda raw: bytes(alphabet[b % len(alphabet)] for b in raw)
            ),
            max_size=4,
        )
    )
    value = b""
    for word in words:
        if value:
            value += draw(st.sampled_from((b" ", b"\t", b"  ", b" \t ")))
        value += word
    return value


def headers(
    *, min_size: int = 0, max_size: int = 5, duplicates: bool = True
) -> st.SearchStrategy[Headers]:
    """A list of ``(name, value)`` fields; ``duplicates=False`` makes names unique
    (case-insensitively), otherwise a name may repeat."""
    fields = st.tuples(header_names(), header_values())
    if duplicates:
        return st.lists(fields, min_size=min_size, max_size=max_size)
    return st.lists(
        fields, min_size=min_size, max_size=max_size, unique_by=lambda item: item[0].lower()
    )


_ows = st.sampled_from((b"", b"", b"", b" ", b"\t", b"  ", b" \t"))


@st.composite
def _field_lines(draw: st.DrawFn, fields: Headers) -> bytes:
    """Serialise fields with random optional whitespace around each value."""
    out = b""
    for name, value in fields:
        before = draw(st.sampled_from((b"", b" ", b" ", b"\t", b"  ")))
        after = draw(_ows)
        if name.lower() == b"transfer-encoding":
            # llhttp reads "chunked<HTAB>" as an unknown coding.
            after = after.replace(b"\t", b" ")
        out += name + b":" + before + value + after + b"\r\n"
    return out


# -- bodies (RFC 9112 6 and 7.1) ------------------------------------------------------

_bodies = st.one_of(st.just(b""), st.binary(min_size=1, max_size=64))


@st.composite
def _chunk_extensions(draw: st.DrawFn) -> bytes:
    out = b""
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.text(TCHAR, min_size=1, max_size=6)).encode("ascii")
        kind = draw(st.sampled_from(("bare", "token", "quoted")))
        if kind == "bare":
            out += b";" + name
        elif kind == "token":
            out += b";" + name + b"=" + draw(st.text(TCHAR, min_size=1, max_size=6)).encode()
        else:
            inner = draw(st.text("abc XYZ=;,-/", max_size=8)).encode("ascii")
            out += b";" + name + b'="' + inner + b'"'
    return out


@st.composite
def _chunk_size(draw: st.DrawFn, size: int) -> bytes:
    digits = b"%x" % size
    if draw(st.booleans()):
        digits = digits.upper()
    return b"0" * draw(st.sampled_from((0, 0, 0, 1, 3))) + digits


@st.composite
def chunked_bodies(draw: st.DrawFn, *, trailers: bool = True) -> tuple[bytes, bytes, Headers]:
    """A chunked body (RFC 9112 7.1): ``(wire bytes, decoded data, trailer fields)``,
    with chunk extensions and leading zeros in sizes."""
    chunks = draw(st.lists(st.binary(min_size=1, max_size=24), max_size=4))
    wire = b""
    for piece in chunks:
        wire += draw(_chunk_size(len(piece))) + draw(_chunk_extensions()) + b"\r\n"
        wire += piece + b"\r\n"
    wire += draw(_chunk_size(0)) + draw(_chunk_extensions()) + b"\r\n"
    fields = draw(headers(max_size=2)) if trailers else []
    wire += draw(_field_lines(fields)) + b"\r\n"
    return wire, b"".join(chunks), fields


def body_events(data: bytes, trailers: Headers | None = None) -> list[Event]:
    """The events a body parses to, adjacent ``Data`` merged into one."""
    events: list[Event] = [Data(data)] if data else []
    events.append(EndOfMessage(list(trailers or [])))
    return events


@st.composite
def _framed_body(
    draw: st.DrawFn, *, allow_chunked: bool, allow_none: bool = True
) -> tuple[Headers, bytes, list[Event]]:
    """Framing fields, body wire bytes and body events for a message."""
    kinds = ["length", *(["chunked"] if allow_chunked else []), *(["none"] if allow_none else [])]
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return [], b"", body_events(b"")
    if kind == "length":
        data = draw(_bodies)
        digits = b"0" * draw(st.sampled_from((0, 0, 0, 2))) + b"%d" % len(data)
        name = draw(_case_variants(b"Content-Length"))
        return [(name, digits)], data, body_events(data)
    wire, data, trailers = draw(chunked_bodies())
    name = draw(_case_variants(b"Transfer-Encoding"))
    value = draw(st.sampled_from((b"chunked", b"Chunked", b"CHUNKED")))
    return [(name, value)], wire, body_events(data, trailers)


def _interleave(draw: st.DrawFn, base: Headers, special: Headers) -> Headers:
    """Put the special fields at random places among the others."""
    fields = list(base)
    for item in special:
        fields.insert(draw(st.integers(0, len(fields))), item)
    return fields


# -- requests (RFC 9112 3) ------------------------------------------------------------

_hosts = st.one_of(
    st.sampled_from((b"example.com", b"localhost:8080", b"127.0.0.1", b"[::1]:443")),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10).map(
        lambda text: text.encode("ascii") + b".test"
    ),
)

_paths = st.lists(st.text(PCHAR, max_size=8), max_size=3).map(
    lambda segments: ("/" + "/".join(segments)).encode("ascii")
)
_queries = st.one_of(
    st.just(b""), st.text(PCHAR + "/?", max_size=12).map(lambda q: b"?" + q.encode("ascii"))
)


@st.composite
def targets(draw: st.DrawFn, method: bytes = b"GET") -> bytes:
    """A request target for ``method`` (RFC 9112 3.2): origin-form mostly, some
    absolute-form, and ``*`` for OPTIONS."""
    kind = draw(st.sampled_from(("origin", "origin", "absolute", "asterisk")))
    if kind == "asterisk" and method == b"OPTIONS":
        return b"*"
    path = draw(_paths) + draw(_queries)
    if kind == "absolute":
        scheme = draw(st.sampled_from((b"http", b"https")))
        return scheme + b"://" + draw(_hosts) + path
    return path


@dataclass
class RequestCase:
    """Requests sent back to back on one connection.

    ``data``: the bytes; ``events``: what a server parses them to (``Request``, at most
    one merged ``Data``, ``EndOfMessage`` per request); ``count``: how many requests;
    ``keep_alive``: whether the connection persists after the last one.
    """

    data: bytes
    events: list[Event] = field(default_factory=list)
    count: int = 0
    keep_alive: bool = True


@st.composite
def _request(
    draw: st.DrawFn, *, last: bool, methods: tuple[bytes, ...]
) -> tuple[bytes, list[Event], bool]:
    version = draw(st.sampled_from((b"1.1", b"1.1", b"1.1", b"1.0")))
    method = draw(st.sampled_from(methods))
    target = draw(targets(method))
    special: Headers = []
    if version == b"1.1" or draw(st.booleans()):
        special.append((draw(_case_variants(b"Host")), draw(_hosts)))
    framing, body_wire, events = draw(_framed_body(allow_chunked=version == b"1.1"))
    special += framing
    if version == b"1.1":
        close = last and draw(st.booleans())
        if close:
            special.append((draw(_case_variants(b"Connection")), b"close"))
        elif draw(st.booleans()):
            special.append((b"Connection", draw(st.sampled_from((b"keep-alive", b"Keep-Alive")))))
        keep_alive = not close
    else:
        keep_alive = not last or draw(st.booleans())
        if keep_alive:
            special.append((draw(_case_variants(b"Connection")), b"keep-alive"))
    fields = _interleave(draw, draw(headers()), special)
    leading = draw(st.sampled_from((b"", b"", b"", b"\r\n")))  # RFC 9112 2.2 allows it
    head = leading + method + b" " + target + b" HTTP/" + version + b"\r\n"
    head += draw(_field_lines(fields)) + b"\r\n"
    return head + body_wire, [Request(method, target, fields, version), *events], keep_alive


def requests(*, methods: tuple[bytes, ...] = METHODS) -> st.SearchStrategy[RequestCase]:
    """One valid request (HTTP/1.1 or 1.0, any framing) as a :class:`RequestCase`."""
    return pipelined_requests(max_count=1, methods=methods)


@st.composite
def pipelined_requests(
    draw: st.DrawFn, *, max_count: int = 3, methods: tuple[bytes, ...] = METHODS
) -> RequestCase:
    """One to ``max_count`` requests back to back; only the last may close."""
    count = draw(st.integers(1, max_count))
    case = RequestCase(b"")
    for index in range(count):
        wire, events, keep_alive = draw(_request(last=index == count - 1, methods=methods))
        case.data += wire
        case.events += events
        case.count += 1
        case.keep_alive = keep_alive
        if not keep_alive:
            break
    return case


# -- responses (RFC 9112 4) -----------------------------------------------------------

_reasons = st.one_of(
    st.sampled_from((b"OK", b"Not Found", b"Moved Permanently", b"No Content", b"")),
    st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ -'/", max_size=16)
    .map(lambda text: text.encode("ascii").strip(b" "))
    .filter(bool),
)


@dataclass
class ResponseCase:
    """One exchange as a client reads it.

    ``method``: the request it answers (HEAD changes framing); ``data``: the response
    bytes, interim (1xx) responses included; ``events``: what a client parses them to;
    ``until_close``: the body is delimited by the end of the connection (RFC 9112 6.3),
    so the events end only once EOF is fed.
    """

    method: bytes
    data: bytes
    events: list[Event]
    until_close: bool = False


@st.composite
def _status_line(draw: st.DrawFn, status: int, version: bytes) -> tuple[bytes, bytes]:
    reason = draw(_reasons)
    if reason:
        return b"HTTP/%s %d %s\r\n" % (version, status, reason), reason
    form = draw(st.sampled_from((b"HTTP/%s %d \r\n", b"HTTP/%s %d\r\n")))
    return form % (version, status), b""


@st.composite
def _response(draw: st.DrawFn, *, last: bool) -> ResponseCase:
    method = draw(st.sampled_from((b"GET", b"GET", b"POST", b"HEAD", b"PUT", b"DELETE")))
    data = b""
    events: list[Event] = []
    for status in draw(st.lists(st.sampled_from((100, 102, 103)), max_size=2)):
        line, reason = draw(_status_line(status, b"1.1"))
        fields = draw(headers())
        data += line + draw(_field_lines(fields)) + b"\r\n"
        events.append(InformationalResponse(status, fields, reason, b"1.1"))
    version = draw(st.sampled_from((b"1.1", b"1.1", b"1.1", b"1.0")))
    status = draw(
        st.one_of(
            st.sampled_from((200, 201, 204, 206, 301, 302, 304, 400, 404, 500, 503)),
            st.integers(200, 599),
        )
    )
    line, reason = draw(_status_line(status, version))
    no_body = method == b"HEAD" or status in (204, 304)
    until_close = False
    special: Headers = []
    if no_body:
        body_wire, body = b"", body_events(b"")
        if method == b"HEAD" and draw(st.booleans()):
            special.append((b"Content-Length", b"%d" % draw(st.integers(0, 10**9))))
    else:
        framing, body_wire, body = draw(
            _framed_body(allow_chunked=version == b"1.1", allow_none=last)
        )
        special += framing
        until_close = not framing
    if version == b"1.0" and not until_close and not last:
        special.append((b"Connection", b"keep-alive"))
    elif last and draw(st.booleans()):
        special.append((draw(_case_variants(b"Connection")), b"close"))
    fields = _interleave(draw, draw(headers()), special)
    data += line + draw(_field_lines(fields)) + b"\r\n" + body_wire
    events.append(Response(status, fields, reason, version))
    events += body
    return ResponseCase(method, data, events, until_close)


def responses(*, last: bool = True) -> st.SearchStrategy[ResponseCase]:
    """One valid response, possibly after 1xx ones. ``last=False`` keeps the connection
    reusable (no close-delimited body)."""
    return _response(last=last)


@st.composite
def response_sequences(draw: st.DrawFn, *, max_count: int = 3) -> list[ResponseCase]:
    """Responses read one after another on a kept-alive connection."""
    count = draw(st.integers(1, max_count))
    return [draw(_response(last=index == count - 1)) for index in range(count)]


# -- delivery -------------------------------------------------------------------------


@st.composite
def split(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at random points, as a network delivers it (possibly one byte at a
    time; never an empty piece). ``b"".join(pieces) == data``."""
    if len(data) <= 1:
        return [data] if data else []
    cuts = sorted(draw(st.sets(st.integers(1, len(data) - 1), max_size=min(len(data), 24))))
    if draw(st.integers(0, 9)) == 0:
        cuts = list(range(1, len(data)))  # byte at a time
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]
