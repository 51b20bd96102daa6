"""What ``session.get()`` and ``treadle.request()`` return: awaitable context managers.

``await session.get(url)`` gives the response; ``async with session.get(url) as resp``
also releases it at the end of the block, whether or not its body was read.
"""

from __future__ import annotations

from collections.abc import Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._response import ClientResponse

__all__ = ["_RequestContextManager", "_SessionRequestContextManager"]


class _RequestContextManager:
    """What ``session.get()`` returns: awaitable, or an ``async with`` that releases."""

    __slots__ = ("_coro", "_resp")

    def __init__(self, coro: Any) -> None:
        self._coro = coro
        self._resp: ClientResponse | None = None

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        return self._coro.__await__()  # type: ignore[no-any-return]

    def send(self, arg: Any) -> Any:
        return self._coro.send(arg)

    def throw(self, *args: Any) -> Any:
        return self._coro.throw(*args)

    def close(self) -> None:
        self._coro.close()

    async def __aenter__(self) -> ClientResponse:
        self._resp = await self._coro
        return self._resp

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._resp is not None
        self._resp.release()


class _SessionRequestContextManager:
    """``treadle.request(...)``: a one-shot session closed with the response."""

    __slots__ = ("_coro", "_resp", "_session")

    def __init__(self, coro: Any, session: Any) -> None:
        self._coro = coro
        self._session = session
        self._resp: ClientResponse | None = None

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        return self._await().__await__()

    async def _await(self) -> ClientResponse:
        try:
            return await self._coro  # type: ignore[no-any-return]
        except BaseException:
            await self._session.close()
            raise

    async def __aenter__(self) -> ClientResponse:
        self._resp = await self._await()
        return self._resp

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._resp is not None
        self._resp.release()
        await self._session.close()
