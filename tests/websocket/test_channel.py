"""WebSocketChannel over real loopback sockets, treadle against treadle, every backend."""

from __future__ import annotations

import anyio
import pytest

from treadle.backends import get_backend
from treadle.websocket import WebSocketChannel, WebSocketError, WSCloseCode, WSMessage, WSMsgType

from ._harness import connect, serve


async def echo(ws: WebSocketChannel) -> None:
    async for msg in ws:
        if msg.type is WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type is WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    await ws.close()


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "deflate"])
async def test_echo(compress: bool) -> None:
    with anyio.fail_after(10):
        async with serve(echo, compress=compress) as port:
            ws = await connect(port, compress=compress)
            await ws.send_str("hello")
            assert await ws.receive_str() == "hello"
            await ws.send_bytes(b"\x00" * 100_000)
            assert await ws.receive_bytes() == b"\x00" * 100_000
            await ws.send_json({"a": [1, 2]})
            assert await ws.receive_json() == {"a": [1, 2]}
            assert await ws.close() is True
            assert ws.closed and ws.close_code == WSCloseCode.OK
            assert await ws.close() is False


async def test_server_initiated_close_ends_async_for() -> None:
    async def app(ws: WebSocketChannel) -> None:
        await ws.send_str("bye soon")
        assert await ws.close(code=WSCloseCode.GOING_AWAY, message=b"maintenance")

    with anyio.fail_after(10):
        async with serve(app) as port:
            ws = await connect(port)
            got = [msg async for msg in ws]
            assert got == [WSMessage(WSMsgType.TEXT, "bye soon", None)]
            assert ws.close_code == WSCloseCode.GOING_AWAY
            assert ws.closed
            # After CLOSE: CLOSED a few times, then aiohttp's RuntimeError.
            for _ in range(5):
                assert (await ws.receive()).type is WSMsgType.CLOSED
            with pytest.raises(RuntimeError):
                await ws.receive()
            with pytest.raises(ConnectionResetError):
                await ws.send_str("too late")


async def test_receive_close_message_and_code() -> None:
    async def app(ws: WebSocketChannel) -> None:
        await ws.close(code=4001, message="custom")

    with anyio.fail_after(10):
        async with serve(app) as port:
            ws = await connect(port)
            msg = await ws.receive()
            assert msg == WSMessage(WSMsgType.CLOSE, 4001, "custom")
            assert (await ws.receive()).type is WSMsgType.CLOSED


async def test_close_timeout_when_the_peer_never_answers() -> None:
    release = anyio.Event()

    async def silent(ws: WebSocketChannel) -> None:
        assert ws.connection is not None
        ws.connection.pause_reading()  # never reads, so never answers the Close
        await release.wait()
        ws.connection.abort()

    with anyio.fail_after(10):
        async with serve(silent) as port:
            ws = await connect(port, close_timeout=0.2)
            start = get_backend().current_time()
            assert await ws.close() is True
            assert get_backend().current_time() - start < 5
            assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
            release.set()


async def test_receive_timeout() -> None:
    async def app(ws: WebSocketChannel) -> None:
        await ws.receive()

    with anyio.fail_after(10):
        async with serve(app) as port:
            ws = await connect(port, receive_timeout=0.05)
            with pytest.raises(TimeoutError):
                await ws.receive()
            with pytest.raises(TimeoutError):
                await ws.receive(timeout=0.01)
            await ws.close()


async def test_concurrent_receive_is_refused() -> None:
    async def app(ws: WebSocketChannel) -> None:
        await ws.receive()

    with anyio.fail_after(10):
        async with serve(app) as port:
            ws = await connect(port)
            async with anyio.create_task_group() as tg:
                tg.start_soon(ws.receive)
                await anyio.sleep(0.05)
                with pytest.raises(RuntimeError):
                    await ws.receive()
                await ws.close()


async def test_heartbeat_keeps_a_live_peer() -> None:
    async def app(ws: WebSocketChannel) -> None:
        msg = await ws.receive()
        await ws.send_str(msg.data)
        await ws.receive()

    with anyio.fail_after(10):
        async with serve(app) as port:
            ws = await connect(port, heartbeat=0.05)
            await anyio.sleep(0.3)  # several heartbeat periods, peer answers pings
            assert not ws.closed
            await ws.send_str("still here")
            assert await ws.receive_str() == "still here"
            await ws.close()


async def test_heartbeat_fails_a_silent_peer() -> None:
    release = anyio.Event()

    async def silent(ws: WebSocketChannel) -> None:
        assert ws.connection is not None
        ws.connection.pause_reading()  # reads nothing, answers no ping
        await release.wait()

    with anyio.fail_after(10):
        async with serve(silent) as port:
            ws = await connect(port, heartbeat=0.1)
            msg = await ws.receive()
            assert msg.type is WSMsgType.ERROR
            assert isinstance(msg.data, TimeoutError)
            assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
            assert isinstance(ws.exception(), TimeoutError)
            assert (await ws.receive()).type is WSMsgType.CLOSED
            release.set()


async def test_message_too_big_is_an_error_and_closes_with_1009() -> None:
    seen: list[WSMessage] = []

    async def app(ws: WebSocketChannel) -> None:
        seen.append(await ws.receive())
        seen.append(await ws.receive())

    with anyio.fail_after(10):
        async with serve(app, max_msg_size=1000) as port:
            ws = await connect(port)
            await ws.send_bytes(b"x" * 1001)
            msg = await ws.receive()
            assert msg == WSMessage(WSMsgType.CLOSE, 1009, msg.extra)
    assert seen[0].type is WSMsgType.ERROR
    assert isinstance(seen[0].data, WebSocketError) and seen[0].data.code == 1009
    assert seen[1].type is WSMsgType.CLOSED


async def test_peer_vanishing_gives_closed_and_1006() -> None:
    async def app(ws: WebSocketChannel) -> None:
        assert ws.connection is not None
        ws.connection.abort()

    with anyio.fail_after(10):
        async with serve(app) as port:
            ws = await connect(port)
            assert (await ws.receive()).type is WSMsgType.CLOSED
            assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE


async def test_both_sides_writing_heavily_do_not_deadlock() -> None:
    count, size = 40, 256 * 1024
    received: list[int] = []

    async def app(ws: WebSocketChannel) -> None:
        async def reader() -> None:
            for _ in range(count):
                received.append(len(await ws.receive_bytes()))

        async with anyio.create_task_group() as tg:
            tg.start_soon(reader)
            for _ in range(count):
                await ws.send_bytes(b"s" * size)
        await ws.receive()  # the client's Close

    with anyio.fail_after(30):
        async with serve(app, compress=False) as port:
            ws = await connect(port, compress=False)
            got = 0

            async def reader() -> None:
                nonlocal got
                for _ in range(count):
                    got += len(await ws.receive_bytes())

            async with anyio.create_task_group() as tg:
                tg.start_soon(reader)
                for _ in range(count):
                    await ws.send_bytes(b"c" * size)
            await ws.close()
    assert got == count * size
    assert received == [size] * count


async def test_ping_pong_without_autoping() -> None:
    async def app(ws: WebSocketChannel) -> None:
        msg = await ws.receive()
        assert msg == WSMessage(WSMsgType.PING, b"hi", None)
        await ws.pong(msg.data)
        await ws.receive()

    with anyio.fail_after(10):
        async with serve(app, autoping=False) as port:
            ws = await connect(port, autoping=False)
            await ws.ping("hi")
            assert await ws.receive() == WSMessage(WSMsgType.PONG, b"hi", None)
            await ws.close()


async def test_without_autoclose_the_application_answers_the_close() -> None:
    async def app(ws: WebSocketChannel) -> None:
        msg = await ws.receive()
        assert msg == WSMessage(WSMsgType.CLOSE, 4002, "please")
        assert (await ws.receive()).type is WSMsgType.CLOSING  # not answered yet
        await ws.send_str("last words")  # still allowed before our Close
        assert await ws.close(code=4003) is True

    with anyio.fail_after(10):
        async with serve(app, autoclose=False) as port:
            ws = await connect(port)
            await ws.close(code=4002, message="please")
            assert ws.close_code == 4003


async def test_close_while_another_task_receives() -> None:
    async def app(ws: WebSocketChannel) -> None:
        await ws.receive()

    with anyio.fail_after(10):
        async with serve(app) as port:
            ws = await connect(port)
            got: list[WSMessage] = []

            async def receiver() -> None:
                got.append(await ws.receive())

            async with anyio.create_task_group() as tg:
                tg.start_soon(receiver)
                await anyio.sleep(0.02)
                assert await ws.close() is True
            assert got[0].type in (WSMsgType.CLOSED, WSMsgType.CLOSE)
