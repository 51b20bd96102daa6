"""``web.View``: a class-based handler dispatching on the request method.

``router.add_view("/path", MyView)`` registers the class for every method; the server
calls ``MyView(request)`` and awaits the instance, which calls ``self.get()``,
``self.post()``... for the request's method, or answers 405 listing the methods the
class defines (RFC 9110 15.5.6).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, NoReturn

from ._abc import AbstractView
from ._exceptions import HTTPMethodNotAllowed
from ._hdrs import METH_ALL


class View(AbstractView):
    """Subclass it and define ``async def get(self)``, ``post``... returning responses."""

    async def _iter(self) -> Any:
        method = self.request.method
        handler = getattr(self, method.lower(), None) if method in METH_ALL else None
        if handler is None:
            self._raise_allowed_methods()
        return await handler()

    def __await__(self) -> Generator[Any, None, Any]:
        return self._iter().__await__()

    def _raise_allowed_methods(self) -> NoReturn:
        allowed = {method for method in METH_ALL if hasattr(self, method.lower())}
        raise HTTPMethodNotAllowed(self.request.method, allowed)


__all__ = ["View"]
