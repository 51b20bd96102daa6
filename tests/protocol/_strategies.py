"""Hypothesis strategies: valid HTTP/1.1 messages with the events they parse to, and
mutations that corrupt them.

The valid generators stay inside what RFC 9112 and llhttp's strict mode both accept, so
every engine must parse them to exactly the predicted events; the mutations then push
the same messages just outside that set, where the engines must agree on refusing.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

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
    "METHODS",
    "RequestCase",
    "ResponseCase",
    "body_events",
    "extra_fields",
    "field_values",
    "header_names",
    "mutated",
    "pipelined_requests",
    "response_sequences",
    "split",
    "targets",
]

# -- lexical pieces -------------------------------------------------------------------

TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
VCHAR = bytes(range(0x21, 0x7F))
OBS_TEXT = bytes(range(0x80, 0x100))
# pchar without pct-encoding (RFC 3986): unreserved, sub-delims, ":" and "@".
PCHAR = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@"

# Fields whose meaning the core acts on: generated only where a test means to.
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


def _case_variants(name: bytes) -> st.SearchStrategy[bytes]:
    """A name as sent by different peers: canonical, lower, upper or mixed case."""
    return st.sampled_from((name, name.lower(), name.upper(), name.title(), name.swapcase())).map(
        bytes
    )


header_names: st.SearchStrategy[bytes] = st.one_of(
    st.sampled_from(
        [
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
        ]
    ).flatmap(_case_variants),
    st.text(TCHAR, min_size=1, max_size=12).map(lambda text: text.encode("ascii")),
).filter(lambda name: name.lower() not in FRAMING_NAMES)


@st.composite
def field_values(draw: st.DrawFn, *, allow_obs_text: bool = True) -> bytes:
    """A field value as parsed: no leading or trailing whitespace (RFC 9110 5.5)."""
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


_ows = st.sampled_from((b"", b"", b"", b" ", b"\t", b"  ", b" \t"))


@st.composite
def _field_lines(draw: st.DrawFn, fields: Headers) -> bytes:
    """Serialise fields with random optional whitespace around each value."""
    out = b""
    for name, value in fields:
        before = draw(st.sampled_from((b"", b" ", b" ", b"\t", b"  ")))
        after = draw(_ows)
        if name.lower() == b"transfer-encoding":
            # llhttp reads "chunked<HTAB>" as an unknown coding: treadle refuses it.
            after = after.replace(b"\t", b" ")
        out += name + b":" + before + value + after + b"\r\n"
    return out


extra_fields: st.SearchStrategy[Headers] = st.lists(
    st.tuples(header_names, field_values()), max_size=5
)

# -- bodies ---------------------------------------------------------------------------

bodies = st.one_of(st.just(b""), st.binary(min_size=1, max_size=64))


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
def chunked_body(draw: st.DrawFn) -> tuple[bytes, bytes, Headers]:
    """Wire bytes of a chunked body, the data it decodes to, and its trailers."""
    chunks = draw(st.lists(st.binary(min_size=1, max_size=24), max_size=4))
    wire = b""
    for piece in chunks:
        wire += draw(_chunk_size(len(piece))) + draw(_chunk_extensions()) + b"\r\n"
        wire += piece + b"\r\n"
    wire += draw(_chunk_size(0)) + draw(_chunk_extensions()) + b"\r\n"
    trailers = draw(st.lists(st.tuples(header_names, field_values()), max_size=2))
    wire += draw(_field_lines(trailers)) + b"\r\n"
    return wire, b"".join(chunks), trailers


def body_events(data: bytes, trailers: Headers | None = None) -> list[Event]:
    """The events a body parses to (adjacent Data merged, as ``merge_data`` does)."""
    events: list[Event] = [Data(data)] if data else []
    events.append(EndOfMessage(list(trailers or [])))
    return events


@st.composite
def _framed_body(
    draw: st.DrawFn, *, allow_chunked: bool, allow_none: bool = True
) -> tuple[Headers, bytes, list[Event]]:
    """Framing fields, body wire bytes and body events for a message with a body."""
    kinds = ["length", *(["chunked"] if allow_chunked else []), *(["none"] if allow_none else [])]
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return [], b"", body_events(b"")
    if kind == "length":
        data = draw(bodies)
        digits = b"0" * draw(st.sampled_from((0, 0, 0, 2))) + b"%d" % len(data)
        name = draw(_case_variants(b"Content-Length"))
        return [(name, digits)], data, body_events(data)
    wire, data, trailers = draw(chunked_body())
    name = draw(_case_variants(b"Transfer-Encoding"))
    value = draw(st.sampled_from((b"chunked", b"Chunked", b"CHUNKED")))
    return [(name, value)], wire, body_events(data, trailers)


def _interleave(draw: st.DrawFn, base: Headers, special: Headers) -> Headers:
    """Put the special fields at random places among the others."""
    fields = list(base)
    for item in special:
        fields.insert(draw(st.integers(0, len(fields))), item)
    return fields


# -- requests -------------------------------------------------------------------------

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
def targets(draw: st.DrawFn, method: bytes) -> bytes:
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
    """Requests on one connection: the bytes, and the events a server parses them to."""

    data: bytes
    events: list[Event]
    count: int


@st.composite
def request(draw: st.DrawFn, *, last: bool) -> tuple[bytes, list[Event], bool]:
    """One request: its bytes, its events, and whether the connection stays open."""
    version = draw(st.sampled_from((b"1.1", b"1.1", b"1.1", b"1.0")))
    method = draw(st.sampled_from(METHODS))
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
    fields = _interleave(draw, draw(extra_fields), special)
    leading = draw(st.sampled_from((b"", b"", b"", b"\r\n")))
    head = leading + method + b" " + target + b" HTTP/" + version + b"\r\n"
    head += draw(_field_lines(fields)) + b"\r\n"
    return head + body_wire, [Request(method, target, fields, version), *events], keep_alive


@st.composite
def pipelined_requests(draw: st.DrawFn, *, max_count: int = 3) -> RequestCase:
    """One to ``max_count`` requests back to back; only the last may end the connection."""
    count = draw(st.integers(1, max_count))
    case = RequestCase(b"", [], 0)
    for index in range(count):
        wire, events, keep_alive = draw(request(last=index == count - 1))
        case.data += wire
        case.events += events
        case.count += 1
        if not keep_alive:
            break
    return case


# -- responses ------------------------------------------------------------------------

_reasons = st.one_of(
    st.sampled_from((b"OK", b"Not Found", b"Moved Permanently", b"No Content", b"")),
    st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ -'/", max_size=16)
    .map(lambda text: text.encode("ascii").strip(b" "))
    .filter(bool),
)


@dataclass
class ResponseCase:
    """One exchange as a client reads it: the request method, the response bytes
    (interim responses included) and the events they parse to."""

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
def response(draw: st.DrawFn, *, last: bool) -> ResponseCase:
    """A final response, possibly after interim ones; ``last`` allows ending by EOF."""
    method = draw(st.sampled_from((b"GET", b"GET", b"POST", b"HEAD", b"PUT", b"DELETE")))
    data = b""
    events: list[Event] = []
    for status in draw(st.lists(st.sampled_from((100, 102, 103)), max_size=2)):
        line, reason = draw(_status_line(status, b"1.1"))
        fields = draw(extra_fields)
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
    fields = _interleave(draw, draw(extra_fields), special)
    data += line + draw(_field_lines(fields)) + b"\r\n" + body_wire
    events.append(Response(status, fields, reason, version))
    events += body
    return ResponseCase(method, data, events, until_close)


@st.composite
def response_sequences(draw: st.DrawFn, *, max_count: int = 3) -> list[ResponseCase]:
    """Responses read one after another on a kept-alive connection."""
    count = draw(st.integers(1, max_count))
    return [draw(response(last=index == count - 1)) for index in range(count)]


# -- splitting and mutating -----------------------------------------------------------


@st.composite
def split(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at random points (possibly into single bytes, never empty pieces)."""
    if len(data) <= 1:
        return [data] if data else []
    cuts = sorted(draw(st.sets(st.integers(1, len(data) - 1), max_size=min(len(data), 24))))
    if draw(st.integers(0, 9)) == 0:
        cuts = list(range(1, len(data)))  # byte at a time
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


_INSERTED = (b"\r", b"\n", b"\r\n", b"\x00", b" ", b"\t", b":", b";", b",", b"\x7f", b"\xff")
_FRAMING_LINES = (
    b"Content-Length: 0",
    b"Content-Length: 5",
    b"Content-Length: 1, 1",
    b"Content-Length: -1",
    b"Content-Length: +3",
    b"Content-Length:",
    b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: gzip",
    b"Transfer-Encoding: gzip, chunked",
    b"Transfer-Encoding: chunked, identity",
    b"Transfer-Encoding:",
    b"Host: other.test",
    b"Connection: close",
    b"Connection: keep-alive",
    b"Connection: upgrade",
    b"Upgrade: websocket",
    b"Expect: 100-continue",
    b"Proxy-Connection: close",
    b" folded",
    b"\tfolded",
    b"Bad Name: x",
    b"Name : x",
    b":",
)
_HUGE = (
    b"18446744073709551615",
    b"18446744073709551616",
    b"99999999999999999999999",
    b"9223372036854775807",
    b"ffffffffffffffff",
    b"10000000000000000",
    b"FFFFFFFFFFFFFFFFF",
    b"000000000000000000000000000001",
    b"4294967296",
    b"0",
)
_NUMBER = re.compile(rb"[0-9A-Fa-f]+")


@st.composite
def _mutate_once(draw: st.DrawFn, data: bytes) -> bytes:
    kind = draw(
        st.sampled_from(("flip", "insert", "delete", "truncate", "field", "huge", "duplicate"))
    )
    size = len(data)
    if kind == "flip" and size:
        at = draw(st.integers(0, size - 1))
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if kind == "insert":
        at = draw(st.integers(0, size))
        return data[:at] + draw(st.sampled_from(_INSERTED)) + data[at:]
    if kind == "delete" and size:
        at = draw(st.integers(0, size - 1))
        return data[:at] + data[at + draw(st.integers(1, 3)) :]
    if kind == "truncate" and size:
        return data[: draw(st.integers(0, size - 1))]
    if kind == "field":
        # A field line (often a framing one) at a line start, i.e. into a head or trailers.
        starts = [m.end() for m in re.finditer(rb"\r\n", data)]
        if starts:
            at = draw(st.sampled_from(starts))
            return data[:at] + draw(st.sampled_from(_FRAMING_LINES)) + b"\r\n" + data[at:]
    if kind == "huge":
        numbers = list(_NUMBER.finditer(data))
        if numbers:
            match = draw(st.sampled_from(numbers))
            return data[: match.start()] + draw(st.sampled_from(_HUGE)) + data[match.end() :]
    if kind == "duplicate":
        lines = [m for m in re.finditer(rb"[^\r\n]*\r\n", data) if b":" in m.group(0)]
        if lines:
            line = draw(st.sampled_from(lines))
            return data[: line.end()] + line.group(0) + data[line.end() :]
    return data + b"\r\n"


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with one to three corruptions applied."""
    for _ in range(draw(st.integers(1, 3))):
        data = draw(_mutate_once(data))
    return data
