"""The channel against other implementations: the ``websockets`` package and raw bytes.

``websockets``' asyncio implementation runs on asyncio and uvloop only; the raw-socket
tests (a hand-written peer speaking bytes) run on every backend.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from treadle.protocol import ClientHandshake, accept_key
from treadle.protocol._ws_mask import python_mask
from treadle.websocket import WebSocketChannel, WebSocketError, WSCloseCode, WSMsgType

from ._harness import connect, serve


@pytest.fixture
def asyncio_only(anyio_backend: Any) -> None:
    if anyio_backend[0] != "asyncio":
        pytest.skip("websockets' asyncio implementation needs asyncio")


async def echo(ws: WebSocketChannel) -> None:
    async for msg in ws:
        if msg.type is WSMsgType.TEXT:
            await ws.send_str(msg.data)
        else:
            await ws.send_bytes(msg.data)


@pytest.mark.usefixtures("asyncio_only")
@pytest.mark.parametrize("compression", ["deflate", None])
async def test_websockets_client_against_our_server(compression: str | None) -> None:
    from websockets.asyncio.client import connect as ws_connect

    with anyio.fail_after(10):
        async with serve(echo) as port:
            async with ws_connect(
                f"ws://127.0.0.1:{port}", compression=compression, max_size=None
            ) as peer:
                if compression:
                    assert peer.protocol.extensions  # deflate was negotiated with us
                await peer.send("héllo")
                assert await peer.recv() == "héllo"
                big = bytes(range(256)) * 8192  # 2 MiB, several frames' worth of TCP
                await peer.send(big)
                assert await peer.recv() == big
                await peer.send(["frag", "mented"])  # a fragmented text message
                assert await peer.recv() == "fragmented"
                await (await peer.ping(b"are you there"))  # answered by autoping
                await peer.close(code=4000, reason="done")
            assert peer.close_code == 4000


@pytest.mark.usefixtures("asyncio_only")
@pytest.mark.parametrize("compress", [True, False])
async def test_our_client_against_websockets_server(compress: bool) -> None:
    from websockets.asyncio.server import ServerConnection
    from websockets.asyncio.server import serve as ws_serve

    async def handler(peer: ServerConnection) -> None:
        async for message in peer:
            await peer.send(message)
            if message == "bye":
                await peer.close(code=1001, reason="going")

    with anyio.fail_after(10):
        async with ws_serve(handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            ws = await connect(port, compress=compress)
            await ws.send_str("hi")
            assert await ws.receive_str() == "hi"
            await ws.send_bytes(b"\x01" * 300_000)
            assert await ws.receive_bytes() == b"\x01" * 300_000
            await ws.ping(b"x")
            await ws.send_str("bye")
            assert await ws.receive_str() == "bye"
            msg = await ws.receive()
            assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, 1001, "going")
            assert ws.close_code == WSCloseCode.GOING_AWAY


async def raw_upgrade(port: int) -> anyio.abc.SocketStream:
    stream = await anyio.connect_tcp("127.0.0.1", port)
    hs = ClientHandshake()
    head = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(
        name + b": " + value + b"\r\n" for name, value in hs.request_headers()
    )
    await stream.send(head + b"\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += await stream.receive()
    assert answer.startswith(b"HTTP/1.1 101") and accept_key(hs.key) in answer
    return stream


async def read_close(stream: anyio.abc.SocketStream) -> int:
    data = b""
    with anyio.move_on_after(5):
        while len(data) < 4:
            data += await stream.receive()
    assert data[0] == 0x88
    return int.from_bytes(data[2:4], "big")


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"\x83\x80MASK", 1002),  # reserved opcode
        (b"\x81\x02ok", 1002),  # unmasked client frame
        (b"\x81\x82\x00\x00\x00\x00\xc0\xaf", 1007),  # overlong UTF-8
        (b"\x82\xff" + (1 << 40).to_bytes(8, "big") + b"MASK", 1009),  # 1 TiB declared
    ],
)
async def test_invalid_frames_close_with_the_right_code(frame: bytes, code: int) -> None:
    seen = []

    async def app(ws: WebSocketChannel) -> None:
        seen.append(await ws.receive())
        seen.append(await ws.receive())

    with anyio.fail_after(10):
        async with serve(app) as port:
            stream = await raw_upgrade(port)
            async with stream:
                await stream.send(frame)
                assert await read_close(stream) == code
    error, closed = seen
    assert error.type is WSMsgType.ERROR and isinstance(error.data, WebSocketError)
    assert error.data.code == code
    assert closed.type is WSMsgType.CLOSED


async def test_bytes_right_after_the_handshake_are_not_lost() -> None:
    got = []

    async def app(ws: WebSocketChannel) -> None:
        got.append(await ws.receive_str())

    with anyio.fail_after(10):
        async with serve(app) as port:
            stream = await anyio.connect_tcp("127.0.0.1", port)
            async with stream:
                hs = ClientHandshake()
                head = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(
                    n + b": " + v + b"\r\n" for n, v in hs.request_headers()
                )
                mask = b"\x01\x02\x03\x04"
                await stream.send(head + b"\r\n" + b"\x81\x85" + mask + python_mask(b"early", mask))
                assert (await stream.receive()).startswith(b"HTTP/1.1 101")
                with anyio.move_on_after(2):
                    while not got:
                        await anyio.sleep(0.01)
    assert got == ["early"]
