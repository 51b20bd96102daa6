"""The ``aiohttp.web``-shaped namespace: ``from treadle import web``.

It re-exports the server layer's public names. The HTTP exception family, routing
(``UrlDispatcher``, ``RouteTableDef``, ``web.get``...) and ``View`` exist today;
``Application``, ``Request``, the responses and ``run_app`` come with the server issue.
"""

from __future__ import annotations

from .server import *  # noqa: F403
from .server import __all__ as _server_all
from .server._run_app import _run_app  # noqa: F401  (aiohttp has web._run_app too)

__all__ = list(_server_all)

if __name__ == "__main__":  # python -m treadle.web [options] module:factory [args]
    import sys

    from .server._cli import main

    main(sys.argv[1:])
