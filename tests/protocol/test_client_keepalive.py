"""Many exchanges on one ClientConnection: the engine state carried between responses.

The httptools engine keeps one llhttp parser across responses that ended cleanly (no
new parser per request); these sequences mix framings, HEAD, interim responses and
byte-by-byte delivery so that anything left over from one response would show in the
next one's events.
"""

from __future__ import annotations

import pytest

from treadle.protocol import (
    ClientConnection,
    Data,
    EndOfMessage,
    InformationalResponse,
    RemoteProtocolError,
    Request,
    Response,
)

from ._drive import merge_data

HOST = [(b"Host", b"example.com")]

# (method, response bytes, expected events)
EXCHANGES = [
    (
        b"GET",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        [Response(200, [(b"Content-Length", b"5")], b"OK"), Data(b"hello"), EndOfMessage()],
    ),
    (
        b"GET",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
        [
            Response(200, [(b"Transfer-Encoding", b"chunked")], b"OK"),
            Data(b"abc"),
            EndOfMessage([(b"X-T", b"1")]),
        ],
    ),
    (
        b"HEAD",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        [Response(200, [(b"Content-Length", b"100")], b"OK"), EndOfMessage()],
    ),
    (
        b"GET",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        [Response(204, [], b"No Content"), EndOfMessage()],
    ),
    (
        b"GET",
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        [
            InformationalResponse(103, [(b"Link", b"</a>")], b"Early Hints"),
            Response(200, [(b"Content-Length", b"2")], b"OK"),
            Data(b"ok"),
            EndOfMessage(),
        ],
    ),
    (
        b"POST",
        b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        [Response(201, [(b"Content-Length", b"0")], b"Created"), EndOfMessage()],
    ),
]


def _exchange(conn: ClientConnection, method: bytes, response: bytes, split: bool) -> list:
    conn.send(Request(method, b"/", HOST))
    conn.send(EndOfMessage())
    if split:
        for i in range(len(response)):
            conn.receive_data(response[i : i + 1])
    else:
        conn.receive_data(response)
    return merge_data(conn.events())


@pytest.mark.parametrize("split", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize("rotation", range(len(EXCHANGES)))
def test_mixed_responses_on_one_connection(engine: str, split: bool, rotation: int) -> None:
    conn = ClientConnection(engine=engine)
    order = EXCHANGES[rotation:] + EXCHANGES[:rotation]
    for _ in range(2):
        for method, response, expected in order:
            assert _exchange(conn, method, response, split) == expected
            assert conn.is_idle


def test_an_error_after_clean_responses_is_still_an_error(engine: str) -> None:
    conn = ClientConnection(engine=engine)
    for _ in range(3):
        method, response, expected = EXCHANGES[0]
        assert _exchange(conn, method, response, False) == expected
    conn.send(Request(b"GET", b"/", HOST))
    conn.send(EndOfMessage())
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")
    with pytest.raises(RemoteProtocolError):
        list(conn.events())
    assert not conn.is_idle
