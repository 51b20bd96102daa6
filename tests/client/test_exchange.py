"""One exchange on a pooled connection: framing errors, timeouts, reuse decisions."""

from __future__ import annotations

import anyio
import pytest

from treadle.client._connector import TCPConnector
from treadle.client._exceptions import (
    ClientPayloadError,
    ClientResponseError,
    RequestInfo,
    ServerDisconnectedError,
    SocketTimeoutError,
)
from treadle.client._interfaces import ConnectionKey
from treadle.client._timeout import ClientTimeout
from treadle.protocol import InformationalResponse, Request

from ._peer_server import Answer, PeerHandler, http_request, peer_server


def key_for(port: int) -> ConnectionKey:
    return ConnectionKey("127.0.0.1", port, False)


def raw(data: bytes, close: bool = False):  # type: ignore[no-untyped-def]
    async def respond(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        assert handler.conn is not None
        handler.conn.write(data)
        if close:
            handler.conn.close()
        return None

    return respond


async def start(connector: TCPConnector, port: int, path: str = "/", **kw: object):  # type: ignore[no-untyped-def]
    exchange = await connector.connect(key_for(port), **kw)  # type: ignore[arg-type]
    exchange.send_head(http_request(path))
    await exchange.end_body()
    return exchange


@pytest.mark.parametrize(
    "wire",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    ],
    ids=["short-length", "chunked-cut", "chunked-bad-terminator", "chunked-bad-size"],
)
async def test_broken_body_is_a_payload_error(wire: bytes) -> None:
    with anyio.fail_after(10):
        async with peer_server(raw(wire, close=True)) as server, TCPConnector() as connector:
            exchange = await start(connector, server.port)
            head = await exchange.read_head()
            assert head.status_code == 200
            with pytest.raises(ClientPayloadError, match="not completed"):
                await exchange.content.read()
            exchange.release()
            assert connector._pool.in_use == 0 and connector._pool.idle_count == 0


async def test_malformed_status_line_is_a_response_error() -> None:
    with anyio.fail_after(10):
        async with (
            peer_server(raw(b"HTTP/1.1 OK 200\r\n\r\n")) as server,
            TCPConnector() as connector,
        ):
            exchange = await start(connector, server.port, "/bad")
            with pytest.raises(ClientResponseError) as info:
                await exchange.read_head()
            assert info.value.status == 400
            assert "/bad" in str(info.value.request_info.url)
            exchange.close()
            assert connector._pool.in_use == 0


async def test_session_request_info_is_used() -> None:
    with anyio.fail_after(10):
        async with peer_server(raw(b"garbage\r\n\r\n")) as server, TCPConnector() as connector:
            exchange = await start(connector, server.port)
            info = RequestInfo("http://example.test/x", "GET", {})
            exchange.request_info = info
            with pytest.raises(ClientResponseError) as caught:
                await exchange.read_head()
            assert caught.value.request_info is info
            exchange.close()


async def test_close_before_response_is_server_disconnected() -> None:
    with anyio.fail_after(10):
        async with peer_server(raw(b"", close=True)) as server, TCPConnector() as connector:
            exchange = await start(connector, server.port)
            with pytest.raises(ServerDisconnectedError):
                await exchange.read_head()
            exchange.close()
        half_head = raw(b"HTTP/1.1 200 OK\r\nConte", close=True)
        async with peer_server(half_head) as server, TCPConnector() as connector:
            exchange = await start(connector, server.port)
            with pytest.raises(ServerDisconnectedError):
                await exchange.read_head()
            exchange.close()


async def test_sock_read_timeout_waiting_for_head_and_body() -> None:
    async def stall(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        if request.target == b"/body":
            assert handler.conn is not None
            handler.conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel")
        await anyio.sleep(5)
        return None

    timeout = ClientTimeout(sock_read=0.1)
    with anyio.fail_after(10):
        async with peer_server(stall) as server, TCPConnector() as connector:
            exchange = await start(connector, server.port, timeout=timeout)
            with pytest.raises(SocketTimeoutError, match=r"127\.0\.0\.1"):
                await exchange.read_head()
            exchange.close()
            exchange = await start(connector, server.port, "/body", timeout=timeout)
            assert (await exchange.read_head()).status_code == 200
            with pytest.raises(SocketTimeoutError):
                await exchange.content.read()
            exchange.release()
            assert connector._pool.in_use == 0 and connector._pool.idle_count == 0


async def test_sock_read_is_between_reads_not_total() -> None:
    async def trickle(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        assert handler.conn is not None
        handler.conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        for byte in b"hello":
            await anyio.sleep(0.05)
            handler.conn.write(bytes([byte]))
        return None

    with anyio.fail_after(10):
        async with peer_server(trickle) as server, TCPConnector() as connector:
            exchange = await start(connector, server.port, timeout=ClientTimeout(sock_read=0.15))
            await exchange.read_head()
            assert await exchange.content.read() == b"hello"
            exchange.release()
            assert connector._pool.idle_count == 1


async def test_unread_body_is_not_reused_but_fully_received_is() -> None:
    big = b"x" * 1_000_000

    async def answer(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        payload = big if request.target == b"/big" else b"small"
        return 200, [(b"Content-Length", str(len(payload)).encode())], payload

    with anyio.fail_after(10):
        async with peer_server(answer) as server, TCPConnector() as connector:
            exchange = await start(connector, server.port, "/big", read_bufsize=1024)
            await exchange.read_head()
            assert await exchange.content.read(10) == b"x" * 10
            exchange.release()  # most of the body is still on the wire: close
            assert connector._pool.idle_count == 0
            exchange = await start(connector, server.port, "/small")
            assert not exchange.reused
            await exchange.read_head()
            await anyio.sleep(0.05)  # the whole body arrives; the app never reads it
            exchange.release()
            assert connector._pool.idle_count == 1
            exchange = await start(connector, server.port, "/big", read_bufsize=1024)
            assert exchange.reused
            await exchange.read_head()
            got = 0
            async for chunk in exchange.content.iter_chunked(4096):
                got += len(chunk)
            assert got == len(big)
            exchange.release()
            assert server.accepted == 2


async def test_connection_close_response_is_not_pooled() -> None:
    async def closing(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        return 200, [(b"Content-Length", b"2"), (b"Connection", b"close")], b"ok"

    with anyio.fail_after(10):
        async with peer_server(closing) as server, TCPConnector() as connector:
            for _ in range(2):
                exchange = await start(connector, server.port)
                await exchange.read_head()
                assert await exchange.content.read() == b"ok"
                exchange.release()
            assert server.accepted == 2 and connector._pool.idle_count == 0


async def test_stale_idle_connection_is_detected() -> None:
    with anyio.fail_after(10):
        async with peer_server() as server, TCPConnector() as connector:
            exchange = await start(connector, server.port)
            await exchange.read_head()
            await exchange.content.read()
            exchange.release()
            assert connector._pool.idle_count == 1
            server.close_all()  # the server drops its idle keep-alive connection
            for _ in range(100):
                if connector._pool.idle_count == 0:
                    break
                await anyio.sleep(0.01)
            assert connector._pool.idle_count == 0
            exchange = await start(connector, server.port)
            assert not exchange.reused
            assert (await exchange.read_head()).status_code == 200
            await exchange.content.read()
            exchange.release()


async def test_keepalive_timeout_expires_idle_connections() -> None:
    with anyio.fail_after(10):
        async with peer_server() as server, TCPConnector(keepalive_timeout=0.05) as connector:
            for _ in range(2):
                exchange = await start(connector, server.port)
                await exchange.read_head()
                await exchange.content.read()
                exchange.release()
                await anyio.sleep(0.15)
            assert server.accepted == 2
            for _ in range(100):  # the cleanup timer closed the last idle connection
                if server.open == 0:
                    break
                await anyio.sleep(0.01)
            assert server.open == 0 and connector._pool.idle_count == 0


async def test_expect_100_continue() -> None:
    async def echo(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        return 200, [(b"Content-Length", str(len(body)).encode())], body

    with anyio.fail_after(10):
        async with peer_server(echo) as server, TCPConnector() as connector:
            exchange = await connector.connect(key_for(server.port))
            head = http_request(
                "/", "POST", [(b"Content-Length", b"4"), (b"Expect", b"100-continue")]
            )
            exchange.send_head(head)
            result: list[bool] = []

            async def wait() -> None:
                result.append(await exchange.wait_for_100_continue())

            async with anyio.create_task_group() as tg:
                tg.start_soon(wait)
                # The test server leaves the 100 to the test: send it once it is owed.
                while not (
                    server.handlers and server.handlers[0].proto.client_is_waiting_for_100_continue
                ):
                    await anyio.sleep(0.005)
                handler = server.handlers[0]
                assert handler.conn is not None
                handler.conn.write(handler.proto.send(InformationalResponse(100)))
            assert result == [True]
            await exchange.write(b"data")
            await exchange.end_body()
            assert (await exchange.read_head()).status_code == 200
            assert await exchange.content.read() == b"data"
            exchange.release()


async def test_final_response_instead_of_100_continue() -> None:
    async def refuse(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        return 417, [(b"Content-Length", b"0")], b""

    with anyio.fail_after(10):
        async with peer_server(refuse) as server, TCPConnector() as connector:
            exchange = await connector.connect(key_for(server.port))
            head = http_request(
                "/", "POST", [(b"Content-Length", b"0"), (b"Expect", b"100-continue")]
            )
            exchange.send_head(head)
            await exchange.end_body()
            assert await exchange.wait_for_100_continue() is False
            assert (await exchange.read_head()).status_code == 417
            exchange.release()


async def test_early_response_while_uploading() -> None:
    async def refuse(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        return None

    with anyio.fail_after(10):
        async with peer_server(refuse) as server, TCPConnector() as connector:
            exchange = await connector.connect(key_for(server.port))
            exchange.send_head(http_request("/", "POST", [(b"Content-Length", b"100000000")]))
            await exchange.write(b"x" * 1000)
            while not server.handlers:
                await anyio.sleep(0.005)
            handler = server.handlers[0]
            assert handler.conn is not None
            handler.conn.write(
                b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            handler.conn.close()
            chunk = b"y" * 65536
            for _ in range(200):  # the upload stops quietly once the answer is in
                await exchange.write(chunk)
            head = await exchange.read_head()
            assert head.status_code == 413
            exchange.release()
            assert connector._pool.in_use == 0 and connector._pool.idle_count == 0


async def test_release_and_close_are_idempotent_and_stale_exchanges_are_inert() -> None:
    with anyio.fail_after(10):
        async with peer_server() as server, TCPConnector() as connector:
            first = await start(connector, server.port)
            await first.read_head()
            await first.content.read()
            first.release()
            first.release()
            second = await start(connector, server.port)
            assert second.reused
            first.close()  # must not touch the connection now serving `second`
            assert connector._pool.in_use == 1
            assert (await second.read_head()).status_code == 200
            assert await second.content.read() == b"GET / "
            second.close()
            second.close()
            assert connector._pool.in_use == 0


async def test_101_switching_protocols_hands_the_connection_over() -> None:
    async def upgrade(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        assert handler.conn is not None
        handler.conn.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\nfirst"
        )
        await anyio.sleep(0.02)
        handler.conn.write(b"second")
        return None

    class Taker:
        def __init__(self) -> None:
            self.data = b""
            self.lost = False

        def connection_made(self, conn: object) -> None:
            pass

        def data_received(self, data: bytes) -> None:
            self.data += data

        def eof_received(self) -> None:
            pass

        def connection_lost(self, exc: BaseException | None) -> None:
            self.lost = True

    with anyio.fail_after(10):
        async with peer_server(upgrade) as server, TCPConnector() as connector:
            exchange = await connector.connect(key_for(server.port))
            exchange.send_head(
                http_request("/ws", extra=[(b"Connection", b"upgrade"), (b"Upgrade", b"echo")])
            )
            await exchange.end_body()
            head = await exchange.read_head()
            assert head.status_code == 101
            conn, trailing, eof = exchange.detach()
            taker = Taker()
            conn.set_handler(taker)
            taker.data = trailing
            assert not eof
            while len(taker.data) < len(b"firstsecond"):
                await anyio.sleep(0.005)
            assert taker.data == b"firstsecond"
            assert connector._pool.in_use == 1  # the upgraded connection keeps its slot
            conn.close()
            exchange.close()
            assert connector._pool.in_use == 0 and connector._pool.idle_count == 0
            while not taker.lost:
                await anyio.sleep(0.005)


async def test_reused_connection_closed_by_the_server_is_a_disconnect() -> None:
    """The keep-alive race: the server drops the connection as the next request arrives.

    The session retries idempotent requests on exactly this (``reused`` and
    ``ServerDisconnectedError``), so both must be reported.
    """
    seen = 0

    async def once(request: Request, body: bytes, handler: PeerHandler) -> Answer:
        nonlocal seen
        seen += 1
        if seen == 1:
            return 200, [(b"Content-Length", b"2")], b"ok"
        assert handler.conn is not None
        handler.conn.close()
        return None

    with anyio.fail_after(10):
        async with peer_server(once) as server, TCPConnector() as connector:
            exchange = await start(connector, server.port)
            await exchange.read_head()
            await exchange.content.read()
            exchange.release()
            exchange = await start(connector, server.port)
            assert exchange.reused
            with pytest.raises(ServerDisconnectedError):
                await exchange.read_head()
            exchange.close()
            assert connector._pool.in_use == 0 and connector._pool.idle_count == 0
