"""A chat room: every message a WebSocket client sends is broadcast to everyone in the room.

``python examples/chat.py --port 8080 --backend trio``, then open http://localhost:8080/
in two browser tabs (or ``python -m websockets ws://localhost:8080/ws?name=ann``).

What it shows: ``web.WebSocketResponse`` with ``async for msg in ws``, shared state under
an ``AppKey``, broadcasting to the other sockets, and closing every socket with
``GOING_AWAY`` in ``on_shutdown`` so that a graceful stop does not wait for idle chats.
The same code runs on asyncio, uvloop and trio.
"""

from __future__ import annotations

import argparse
import html

from treadle import WSCloseCode, WSMsgType, web

#: The open sockets of the room, by participant name.
ROOM = web.AppKey("room", dict[str, web.WebSocketResponse])

PAGE = """<!doctype html>
<title>treadle chat</title>
<ul id="log"></ul>
<form id="f"><input id="text" autocomplete="off" autofocus><button>send</button></form>
<script>
  const name = prompt("your name") || "guest";
  const ws = new WebSocket(`ws://${location.host}/ws?name=${encodeURIComponent(name)}`);
  ws.onmessage = (e) => {
    const li = document.createElement("li"); li.textContent = e.data;
    document.getElementById("log").appendChild(li);
  };
  document.getElementById("f").onsubmit = (e) => {
    e.preventDefault(); const t = document.getElementById("text");
    ws.send(t.value); t.value = "";
  };
</script>
"""


async def index(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


async def broadcast(room: dict[str, web.WebSocketResponse], text: str, *, skip: str) -> None:
    """Send ``text`` to everyone but ``skip``; a socket that fails is dropped."""
    for name, ws in list(room.items()):
        if name == skip or ws.closed:
            continue
        try:
            await ws.send_str(text)
        except ConnectionError:
            room.pop(name, None)


async def chat(request: web.Request) -> web.WebSocketResponse:
    room = request.app[ROOM]
    name = html.escape(request.query.get("name", "").strip()) or "guest"
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    if name in room:
        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"name taken")
        return ws
    room[name] = ws
    await ws.send_str(f"welcome {name}: {len(room) - 1} other(s) here")
    await broadcast(room, f"* {name} joined", skip=name)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await broadcast(room, f"{name}: {msg.data}", skip=name)
    finally:
        room.pop(name, None)
        await broadcast(room, f"* {name} left", skip=name)
    return ws


async def close_all(app: web.Application) -> None:
    for ws in list(app[ROOM].values()):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


def make_app() -> web.Application:
    app = web.Application()
    app[ROOM] = {}
    app.router.add_get("/", index)
    app.router.add_get("/ws", chat)
    app.on_shutdown.append(close_all)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="treadle chat example")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--backend", choices=("asyncio", "uvloop", "trio"), default="asyncio")
    options = parser.parse_args()
    web.run_app(make_app(), host=options.host, port=options.port, backend=options.backend)


if __name__ == "__main__":
    main()
