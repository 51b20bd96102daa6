"""StreamReader on every backend: reading API, flow control, errors, cancellation."""

from __future__ import annotations

import itertools

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from treadle.message._streams import EMPTY_PAYLOAD, IncompleteReadError, StreamReader


def fed(*pieces: bytes, eof: bool = True, **kwargs: object) -> StreamReader:
    stream = StreamReader(**kwargs)  # type: ignore[arg-type]
    for piece in pieces:
        stream.feed_data(piece)
    if eof:
        stream.feed_eof()
    return stream


async def test_read_all_and_in_sizes() -> None:
    assert await fed(b"ab", b"cd", b"e").read() == b"abcde"
    stream = fed(b"abcdef")
    assert [await stream.read(4), await stream.read(4), await stream.read(4)] == [
        b"abcd",
        b"ef",
        b"",
    ]
    assert stream.at_eof()


async def test_readany_gives_pieces_in_order() -> None:
    stream = fed(b"one", b"two")
    assert [await stream.readany(), await stream.readany(), await stream.readany()] == [
        b"one",
        b"two",
        b"",
    ]


async def test_readexactly() -> None:
    stream = fed(b"ab", b"cdef")
    assert await stream.readexactly(3) == b"abc"
    with pytest.raises(IncompleteReadError) as caught:
        await stream.readexactly(5)
    assert caught.value.partial == b"def"
    assert caught.value.expected == 5


async def test_lines_across_pieces() -> None:
    stream = fed(b"fir", b"st\nsec", b"ond\n", b"tail")
    assert [line async for line in stream] == [b"first\n", b"second\n", b"tail"]


async def test_readuntil_separator_split_over_pieces() -> None:
    data = b"head--boundary--rest"
    stream = fed(*[data[i : i + 1] for i in range(len(data))])
    assert await stream.readuntil(b"--boundary--") == b"head--boundary--"
    assert await stream.read() == b"rest"


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=60),
    separator=st.binary(min_size=1, max_size=5),
    cuts=st.lists(st.integers(0, 60), max_size=8),
)
def test_readuntil_matches_bytes_find(data: bytes, separator: bytes, cuts: list[int]) -> None:
    edges = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    pieces = [data[a:b] for a, b in itertools.pairwise(edges)]

    async def main() -> bytes:
        return await fed(*pieces).readuntil(separator)

    found = data.find(separator)
    expected = data if found < 0 else data[: found + len(separator)]
    for backend in ("asyncio", "trio"):
        assert anyio.run(main, backend=backend) == expected


async def test_line_longer_than_the_limit_is_refused() -> None:
    stream = fed(b"x" * 50, b"y" * 50, b"\n", limit=16)
    with pytest.raises(ValueError, match="Chunk too big"):
        await stream.readline()


async def test_iterators() -> None:
    assert [c async for c in fed(b"abcdefg").iter_chunked(3)] == [b"abc", b"def", b"g"]
    assert [c async for c in fed(b"a", b"b").iter_any()] == [b"a", b"b"]
    assert [c async for c in fed(b"a", b"b").iter_chunks()] == [(b"a", False), (b"b", False)]


async def test_reader_waits_for_the_producer() -> None:
    stream = StreamReader()
    received: list[bytes] = []

    async def consume() -> None:
        received.append(await stream.read())

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await anyio.sleep(0.01)
            stream.feed_data(b"late ")
            await anyio.sleep(0.01)
            stream.feed_data(b"data")
            stream.feed_eof()
    assert received == [b"late data"]


async def test_an_error_comes_after_the_data_before_it() -> None:
    stream = fed(b"good", eof=False)
    stream.set_exception(ConnectionResetError("peer went away"))
    assert await stream.readany() == b"good"
    with pytest.raises(ConnectionResetError):
        await stream.readany()
    assert isinstance(stream.exception(), ConnectionResetError)


async def test_a_body_cut_short_never_reads_as_complete() -> None:
    stream = fed(b"partial", eof=False)
    stream.set_exception(EOFError("body shorter than Content-Length"))
    with pytest.raises(EOFError):
        await stream.read()


async def test_flow_control_pauses_and_resumes_the_producer() -> None:
    calls: list[str] = []
    stream = StreamReader(
        limit=10, on_pause=lambda: calls.append("pause"), on_resume=lambda: calls.append("resume")
    )
    for _ in range(5):
        stream.feed_data(b"x" * 5)  # 25 bytes > 2 * limit: pause once
    assert calls == ["pause"]
    await stream.readexactly(10)  # 15 left: still above the low-water mark
    assert calls == ["pause"]
    await stream.readexactly(10)  # 5 left: resume
    assert calls == ["pause", "resume"]


async def test_two_readers_at_once_is_an_error() -> None:
    stream = StreamReader()
    errors: list[BaseException] = []

    async def second() -> None:
        try:
            await stream.read()
        except RuntimeError as exc:
            errors.append(exc)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(stream.read)
            await anyio.sleep(0.01)
            tg.start_soon(second)
            await anyio.sleep(0.01)
            stream.feed_eof()
    assert len(errors) == 1


async def test_a_cancelled_read_loses_nothing() -> None:
    stream = StreamReader()
    with anyio.move_on_after(0.05):
        await stream.read()
    stream.feed_data(b"kept")
    stream.feed_eof()
    with anyio.fail_after(5):
        assert await stream.read() == b"kept"


async def test_unread_read_nowait_and_eof_callbacks() -> None:
    stream = fed(b"abcdef", eof=False)
    ended: list[bool] = []
    stream.on_eof(lambda: ended.append(True))
    assert await stream.read(2) == b"ab"
    stream.unread_data(b"XY")
    assert stream.read_nowait() == b"XYcdef"
    assert not ended
    stream.feed_eof()
    assert ended == [True]
    assert stream.at_eof()


async def test_empty_payload() -> None:
    assert EMPTY_PAYLOAD.at_eof()
    assert await EMPTY_PAYLOAD.read() == b""
    with pytest.raises(RuntimeError):
        EMPTY_PAYLOAD.feed_data(b"x")
