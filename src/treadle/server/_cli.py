"""``python -m treadle.web [-H host] [-P port] [-U path] [--backend B] module:factory [args]``.

The same command line as ``python -m aiohttp.web``: ``factory`` is called with the
arguments the parser did not recognise and returns the application (or an awaitable of
it), which ``run_app`` then serves. ``--backend`` picks asyncio, uvloop or trio.
"""

from __future__ import annotations

import logging
import socket
from argparse import ArgumentParser, Namespace
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any

from ..backends import BACKEND_NAMES
from ._run_app import run_app

__all__ = ["main", "make_parser", "parse_args"]


def make_parser() -> ArgumentParser:
    parser = ArgumentParser(description="treadle.web Application server", prog="treadle.web")
    parser.add_argument(
        "entry_func",
        help=(
            "Callable returning the `treadle.web.Application` instance to run. Should be "
            "specified in the 'module:function' syntax."
        ),
        metavar="entry-func",
    )
    parser.add_argument(
        "-H",
        "--hostname",
        help="TCP/IP hostname to serve on (default: localhost)",
        default=None,
    )
    parser.add_argument(
        "-P",
        "--port",
        help="TCP/IP port to serve on (default: %(default)r)",
        type=int,
        default=8080,
    )
    parser.add_argument(
        "-U",
        "--path",
        help=(
            "Unix file system path to serve on. Can be combined with hostname "
            "to serve on both Unix and TCP."
        ),
    )
    parser.add_argument(
        "--backend",
        choices=BACKEND_NAMES,
        default="asyncio",
        help="event loop to run on (default: %(default)s)",
    )
    return parser


def parse_args(
    parser: ArgumentParser, argv: Sequence[str] | None
) -> tuple[Namespace, list[str], Callable[..., Any]]:
    """Options, the factory's arguments and the factory itself (errors exit with 2)."""
    args, extra_argv = parser.parse_known_args(argv)
    mod_str, _, func_str = args.entry_func.partition(":")
    if not func_str or not mod_str:
        parser.error("'entry-func' not in 'module:function' syntax")
    if mod_str.startswith("."):
        parser.error("relative module names not supported")
    try:
        module = import_module(mod_str)
    except ImportError as exc:
        parser.error(f"unable to import {mod_str}: {exc}")
    try:
        func = getattr(module, func_str)
    except AttributeError:
        parser.error(f"module {mod_str!r} has no attribute {func_str!r}")
    if not callable(func):
        parser.error(f"{mod_str}:{func_str} is not callable")
    if args.path is not None and not hasattr(socket, "AF_UNIX"):
        parser.error("file system paths not supported by your operating environment")
    return args, extra_argv, func


def main(argv: Sequence[str] | None = None) -> None:
    """Parse ``argv``, build the application and serve it until CTRL+C or SIGTERM."""
    parser = make_parser()
    args, extra_argv, func = parse_args(parser, argv)
    logging.basicConfig(level=logging.DEBUG)
    if args.path and args.hostname is None:
        host = port = None
    else:
        host = args.hostname or "localhost"
        port = args.port
    app = func(extra_argv)
    run_app(app, host=host, port=port, path=args.path, backend=args.backend)
    parser.exit(message="Stopped\n")
