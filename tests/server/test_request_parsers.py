"""Properties of the parsers that read peer-controlled request headers.

Whatever a client sends in Forwarded, Cookie, If-*-Match, dates or Range, parsing ends
with a value or the one documented exception, never a crash or a loop.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from treadle.server._forwarded import MAX_FORWARDED_ELEMENTS, parse_cookie_header, parse_forwarded
from treadle.server._http_helpers import ETag, parse_etag_list, parse_http_date, quote_etag
from treadle.server._ranges import MAX_RANGES, RangeNotSatisfiable, parse_ranges
from treadle.server._request_headers import parse_single_range

header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=200)
FAST = settings(max_examples=200, deadline=None)


@FAST
@given(st.lists(header_text, max_size=4))
def test_forwarded_never_raises_and_is_bounded(values: list[str]) -> None:
    elements = parse_forwarded(values)
    assert len(elements) <= MAX_FORWARDED_ELEMENTS + len(values)
    for element in elements:
        assert all(name == name.lower() for name in element)


@FAST
@given(st.lists(header_text, max_size=4))
def test_cookie_header_never_raises(values: list[str]) -> None:
    cookies = parse_cookie_header(values)
    assert all(name and name == name.strip() for name in cookies)


@FAST
@given(header_text)
def test_etag_lists_and_dates_never_raise(value: str) -> None:
    tags = parse_etag_list(value)
    assert tags is not None and all(isinstance(tag, ETag) for tag in tags)
    parsed = parse_http_date(value)
    assert parsed is None or parsed.tzinfo is not None


@FAST
@given(
    st.text(alphabet="!#$%&()*+-./0123456789:;<=>?@ABCXYZ[]^_`abcxyz{|}~", max_size=40),
    st.booleans(),
)
def test_etag_round_trip(value: str, weak: bool) -> None:
    if value == "*":
        return
    header = quote_etag(ETag(value, weak))
    assert parse_etag_list(header) == (ETag(value, weak),)


@FAST
@given(header_text, st.integers(min_value=0, max_value=10**6))
def test_ranges_are_within_the_representation(header: str, size: int) -> None:
    try:
        ranges = parse_ranges(header, size)
    except RangeNotSatisfiable:
        return
    if ranges is None:
        return
    assert 1 <= len(ranges) <= MAX_RANGES
    for start, end in ranges:
        assert 0 <= start < end <= size


@FAST
@given(
    st.lists(
        st.tuples(st.integers(0, 2000), st.integers(0, 2000)).map(sorted), min_size=1, max_size=5
    ),
    st.integers(1, 1500),
)
def test_generated_ranges_match_slicing(pairs: list[list[int]], size: int) -> None:
    header = "bytes=" + ",".join(f"{a}-{b}" for a, b in pairs)
    data = bytes(range(256)) * 6
    data = data[:size]
    try:
        ranges = parse_ranges(header, size)
    except RangeNotSatisfiable:
        assert all(a >= size for a, _ in pairs)
        return
    if ranges is None:
        return  # overlapping: ignored
    served = [data[start:end] for start, end in ranges]
    expected = [data[a : b + 1] for a, b in pairs if a < size]
    assert served == expected


@FAST
@given(header_text)
def test_single_range_raises_only_value_error(value: str) -> None:
    try:
        start, end = parse_single_range(value)
    except ValueError:
        return
    assert start is not None or end is None
