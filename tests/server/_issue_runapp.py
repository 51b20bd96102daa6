"""``web.run_app`` called the ways users call it, for test_issue_run_app.

``python -m tests.server._issue_runapp --backend B --mode M [--path P] [--cert C --key K]``
where M is ``coro`` (a coroutine returning the app), ``sock`` (a bound socket),
``unix`` (a path), ``tls`` (an ssl_context) or ``hosts`` (a list of hosts, a custom
access log format). It prints a line for each step the test waits for.
"""

from __future__ import annotations

import argparse
import logging
import socket
import ssl
import sys

from treadle import web


def say(line: str) -> None:
    print(line, flush=True)


async def hello(request: web.Request) -> web.Response:
    return web.Response(text=f"hello {request.scheme} {request.app['made_by']}")


async def make_app() -> web.Application:
    """A coroutine returning the app (awaited by run_app in its own loop)."""
    say("factory awaited")
    app = web.Application()
    app["made_by"] = "coroutine"
    app.router.add_get("/", hello)

    async def on_cleanup(app: web.Application) -> None:
        say("cleanup")

    app.on_cleanup.append(on_cleanup)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="asyncio")
    parser.add_argument("--mode", default="coro")
    parser.add_argument("--path")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    kwargs: dict[str, object] = {"backend": args.backend, "print": say}
    if args.mode == "sock":
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        kwargs["sock"] = sock
    elif args.mode == "unix":
        kwargs["path"] = args.path
    elif args.mode == "tls":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        kwargs.update(host="127.0.0.1", port=0, ssl_context=context)
    elif args.mode == "hosts":
        logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="LOG %(message)s")
        kwargs.update(
            host=["127.0.0.1"], port=0, access_log_format='%s "%r" %{X-Who}i', reuse_port=True
        )
    else:
        kwargs.update(host="127.0.0.1", port=0)
    web.run_app(make_app(), **kwargs)  # type: ignore[arg-type]
    say("run_app returned")


if __name__ == "__main__":
    main()
