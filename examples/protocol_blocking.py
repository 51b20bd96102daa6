"""treadle.protocol over plain blocking sockets: no event loop, no framework.

The sans-IO core only turns bytes into events and events into bytes; this program
supplies the I/O itself. ``serve`` answers requests on a listening socket (one
connection at a time, keep-alive honoured) and ``fetch`` is a minimal HTTP client.

Run it: ``python examples/protocol_blocking.py`` starts a server on a free port, fetches
from it with both the treadle client below and the standard library, and prints what
happened.
"""

from __future__ import annotations

import http.client
import socket
import threading

from treadle.protocol import (
    ClientConnection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    RemoteProtocolError,
    Request,
    Response,
    ServerConnection,
)

READ_SIZE = 65536


def handle(request: Request, body: bytes) -> tuple[int, bytes]:
    """The application: say hello, echo POST bodies."""
    if request.method == b"POST":
        return 200, body
    return 200, b"Hello from " + request.target + b"\n"


def serve_connection(sock: socket.socket) -> None:
    """Answer requests on one connection until either side closes it."""
    conn = ServerConnection()
    request: Request | None = None
    body = bytearray()
    while not conn.must_close:
        try:
            event = conn.next_event()
        except RemoteProtocolError as error:
            # Bad input: answer with the status the core suggests, then close.
            sock.sendall(conn.send(Response(error.status_hint, [(b"Content-Length", b"0")])))
            sock.sendall(conn.send(EndOfMessage()))
            break
        if isinstance(event, Request):
            request, body = event, bytearray()
        elif isinstance(event, Data):
            body += event.data
        elif isinstance(event, EndOfMessage) and request is not None:
            status, payload = handle(request, bytes(body))
            headers = [(b"Content-Type", b"text/plain"), (b"Content-Length", b"%d" % len(payload))]
            sock.sendall(conn.send(Response(status, headers)) + conn.send(Data(payload)))
            sock.sendall(conn.send(EndOfMessage()))
        elif isinstance(event, ConnectionClosed):
            break
        else:  # NEED_DATA: read more from the socket
            conn.receive_data(sock.recv(READ_SIZE))
    sock.close()


def serve(listener: socket.socket, stop: threading.Event) -> None:
    """Accept connections until ``stop`` is set (checked between connections)."""
    listener.settimeout(0.1)
    while not stop.is_set():
        try:
            sock, _ = listener.accept()
        except TimeoutError:
            continue
        sock.settimeout(5)
        serve_connection(sock)


def fetch(host: str, port: int, targets: list[bytes]) -> list[tuple[int, bytes]]:
    """GET each target over one keep-alive connection; return (status, body) pairs."""
    results = []
    with socket.create_connection((host, port), timeout=5) as sock:
        conn = ClientConnection()
        for target in targets:
            sock.sendall(conn.send(Request(b"GET", target, [(b"Host", host.encode())])))
            sock.sendall(conn.send(EndOfMessage()))
            status, body = 0, bytearray()
            while True:
                event = conn.next_event()
                if isinstance(event, Response):
                    status = event.status_code
                elif isinstance(event, Data):
                    body += event.data
                elif isinstance(event, EndOfMessage):
                    break
                else:
                    conn.receive_data(sock.recv(READ_SIZE))
            results.append((status, bytes(body)))
    return results


def main() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(listener, stop), daemon=True)
    thread.start()
    try:
        for status, body in fetch("127.0.0.1", port, [b"/one", b"/two"]):
            print(f"treadle client: {status} {body!r}")
        stdlib = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        stdlib.request("POST", "/echo", body=b"echo me")
        response = stdlib.getresponse()
        print(f"http.client:    {response.status} {response.read()!r}")
        stdlib.close()
    finally:
        stop.set()
        thread.join(5)
        listener.close()


if __name__ == "__main__":
    main()
