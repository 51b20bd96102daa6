"""An ASGI app for the auth, proxy, redirect and tracing tests, served by uvicorn.

Routes:
- ``/echo`` (any method): method, path, query, headers and body length as JSON.
- ``/basic``: 401 with ``WWW-Authenticate: Basic`` unless ``Authorization`` is Basic
  ``user:pass``.
- ``/digest/{algorithm}`` (any method; ``?qop=auth|auth-int|none``): RFC 7616 Digest
  for ``user``/``pass``, checked here with hashlib (independently of treadle's code,
  and cross-checked in the tests with httpx's DigestAuth); the answer echoes the nonce
  count it accepted.
- ``/redirect?status=&location=``: that status with that ``Location``; ``/loop``
  redirects to itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl

NONCE = secrets.token_hex(16)
OPAQUE = "opaque-value"
REALM = "treadle@test"
USER, PASSWORD = "user", "pass"
_HASH = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}
_PAIR = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


async def _body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def _send(
    send: Any, status: int, payload: Any = None, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(payload).encode() if payload is not None else b""
    all_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


def _digest_ok(scope: dict[str, Any], header: str, algorithm: str, body: bytes) -> str | None:
    """The accepted nonce count, or None."""
    if not header.startswith("Digest "):
        return None
    fields = {m[0]: m[1] if m[1] or not m[2] else m[2] for m in _PAIR.findall(header[7:])}
    name = _HASH[algorithm.upper().removesuffix("-SESS")]

    def h(data: bytes) -> str:
        return hashlib.new(name, data).hexdigest()

    if fields.get("nonce") != NONCE or fields.get("opaque") != OPAQUE:
        return None
    if fields.get("username") != USER or fields.get("realm") != REALM:
        return None
    uri = scope["raw_path"].decode() + (
        "?" + scope["query_string"].decode() if scope["query_string"] else ""
    )
    if fields.get("uri") != uri:
        return None
    ha1 = h(f"{USER}:{REALM}:{PASSWORD}".encode())
    if algorithm.upper().endswith("-SESS"):
        ha1 = h(f"{ha1}:{NONCE}:{fields.get('cnonce', '')}".encode())
    qop = fields.get("qop")
    a2 = f"{scope['method']}:{uri}"
    if qop == "auth-int":
        a2 += ":" + h(body)
    ha2 = h(a2.encode())
    if qop:
        expected = h(f"{ha1}:{NONCE}:{fields['nc']}:{fields['cnonce']}:{qop}:{ha2}".encode())
    else:
        expected = h(f"{ha1}:{NONCE}:{ha2}".encode())
    return fields.get("nc", "") if fields.get("response") == expected else None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    query = dict(parse_qsl(scope["query_string"].decode()))
    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
    body = await _body(receive)
    if path == "/echo":
        await _send(
            send,
            200,
            {
                "method": scope["method"],
                "path": path,
                "query": query,
                "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
                "body_length": len(body),
            },
        )
    elif path == "/basic":
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if headers.get("authorization") == expected:
            await _send(send, 200, {"ok": True})
        else:
            await _send(send, 401, None, [(b"www-authenticate", f'Basic realm="{REALM}"'.encode())])
    elif path.startswith("/digest/"):
        algorithm = path.removeprefix("/digest/")
        qop = query.get("qop", "auth")
        nc = _digest_ok(scope, headers.get("authorization", ""), algorithm, body)
        if nc is not None:
            await _send(send, 200, {"nc": nc, "body_length": len(body)})
            return
        challenge = (
            f'Digest realm="{REALM}", nonce="{NONCE}", opaque="{OPAQUE}", algorithm={algorithm}'
        )
        if qop != "none":
            challenge += f', qop="{qop}"'
        await _send(
            send,
            401,
            None,
            [(b"www-authenticate", b'Basic realm="x"'), (b"www-authenticate", challenge.encode())],
        )
    elif path == "/loop":
        await _send(send, 302, None, [(b"location", b"/loop")])
    elif path == "/redirect":
        status = int(query.get("status", "302"))
        await _send(send, status, None, [(b"location", query["location"].encode())])
    else:
        await _send(send, 404, {"path": path})
