"""Find the backend for the async library running the current task (sniffio)."""

from __future__ import annotations

import sys

import sniffio

from ._errors import UnsupportedAsyncLibraryError
from ._interface import Backend

__all__ = ["get_backend"]

_backends: dict[str, Backend] = {}


def _running_library() -> str:
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        pass
    # sniffio only sees asyncio from inside a task; handler callbacks run as plain loop
    # callbacks, so also accept "a loop is running in this thread".
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            return "asyncio"
    raise UnsupportedAsyncLibraryError(
        "treadle was called outside of an event loop; run it under asyncio.run(), "
        "uvloop.run() or trio.run()"
    )


def get_backend() -> Backend:
    """The :class:`Backend` for the running async library (cached per library).

    Raises :class:`UnsupportedAsyncLibraryError` outside an event loop or under a library
    treadle has no backend for.
    """
    name = _running_library()
    backend = _backends.get(name)
    if backend is not None:
        return backend
    if name == "asyncio":
        from ._asyncio import AsyncioBackend

        backend = AsyncioBackend()
    elif name == "trio":
        from ._trio import TrioBackend

        backend = TrioBackend()
    else:
        raise UnsupportedAsyncLibraryError(
            f"treadle does not support the async library {name!r}; use asyncio, uvloop or trio"
        )
    _backends[name] = backend
    return backend
