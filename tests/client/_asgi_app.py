"""A small ASGI app the client tests talk to, served by uvicorn in a subprocess.

Routes (all GET unless said): ``/echo`` (any method: method, path, query, headers and
body as JSON), ``/status/{n}``, ``/redirect/{n}`` (n hops then /echo),
``/redirect-to?url=&status=``, ``/encoded/{coding}`` (a coded text body),
``/bomb`` (gzip of 64 MiB of zeros), ``/slow?delay=`` (the head comes late),
``/slow-body?delay=`` (the body comes late), ``/set-cookie?name=value...``,
``/stream?n=&size=`` (chunked pieces), ``/text?charset=``, ``/json-wrong-type``,
``/no-content`` (204), ``/links``.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from typing import Any
from urllib.parse import parse_qsl

from treadle.message import compress

Scope = dict[str, Any]

ENCODED_TEXT = b"hello treadle " * 500
_BOMB = gzip.compress(b"\0" * (64 * 2**20), compresslevel=9)


async def _read_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def _send(
    send: Any,
    status: int,
    body: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    content_type: bytes = b"text/plain; charset=utf-8",
) -> None:
    all_headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path: str = scope["path"]
    query = dict(parse_qsl(scope["query_string"].decode()))
    parts = path.strip("/").split("/")
    head = parts[0]

    if head == "echo":
        body = await _read_body(receive)
        data = {
            "method": scope["method"],
            "path": path,
            "query": scope["query_string"].decode(),
            "headers": [[k.decode(), v.decode("latin-1")] for k, v in scope["headers"]],
            "body": body.decode("latin-1"),
        }
        await _send(send, 200, json.dumps(data).encode(), content_type=b"application/json")
    elif head == "status":
        status = int(parts[1])
        if status in (204, 304):  # no body allowed (RFC 9110 15.3.5, 15.4.5)
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        else:
            await _send(send, status, f"status {parts[1]}".encode())
    elif head == "redirect":
        n = int(parts[1])
        target = f"/redirect/{n - 1}" if n > 1 else "/echo"
        await _send(send, 302, b"", [(b"location", target.encode())])
    elif head == "redirect-to":
        status = int(query.get("status", "302"))
        await _send(send, status, b"", [(b"location", query["url"].encode())])
    elif head == "encoded":
        coding = parts[1]
        if coding == "deflate-raw":
            obj = zlib.compressobj(wbits=-15)
            body = obj.compress(ENCODED_TEXT) + obj.flush()
            coding = "deflate"
        else:
            body = compress(ENCODED_TEXT, coding)
        await _send(send, 200, body, [(b"content-encoding", coding.encode())])
    elif head == "bomb":
        await _send(send, 200, _BOMB, [(b"content-encoding", b"gzip")])
    elif head == "slow":
        await asyncio.sleep(float(query.get("delay", "5")))
        await _send(send, 200, b"late")
    elif head == "slow-body":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        await asyncio.sleep(float(query.get("delay", "5")))
        await send({"type": "http.response.body", "body": b"second"})
    elif head == "set-cookie":
        headers = [(b"set-cookie", f"{k}={v}; Path=/".encode()) for k, v in query.items()]
        await _send(send, 200, b"ok", headers)
    elif head == "stream":
        n, size = int(query.get("n", "10")), int(query.get("size", "1000"))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(n):
            piece = bytes([48 + i % 10]) * size
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif head == "text":
        charset = query.get("charset", "utf-8")
        await _send(
            send,
            200,
            "h\u00e9llo".encode(charset),
            content_type=f"text/plain; charset={charset}".encode(),
        )
    elif head == "json-wrong-type":
        await _send(send, 200, b'{"a": 1}', content_type=b"text/html")
    elif head == "no-content":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    elif head == "links":
        link = b'<https://one.example.com>; rel="preconnect", </page/2>; rel=next'
        await _send(send, 200, b"", [(b"link", link)])
    else:
        await _send(send, 404, b"not found")
