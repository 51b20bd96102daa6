"""``Signal``: an application's list of async callbacks (aiohttp's ``aiosignal.Signal``).

Receivers are added like list items while the application is being set up; once the
application is frozen (it starts serving) the list is frozen too and ``send`` may run.
Sending an unfrozen signal is refused, as in aiohttp: it would mean the application
was never started.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableSequence
from typing import Any, overload

__all__ = ["FrozenList", "Signal"]


class FrozenList(MutableSequence[Any]):
    """A list that refuses changes once :meth:`freeze` was called (``frozenlist``)."""

    __slots__ = ("_frozen", "_items")

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._items: list[Any] = list(items)
        self._frozen = False

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        self._frozen = True

    def _check(self) -> None:
        if self._frozen:
            raise RuntimeError("Cannot modify frozen list.")

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        return self._items[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check()
        self._items[index] = value

    def __delitem__(self, index: int | slice) -> None:
        self._check()
        del self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __reversed__(self) -> Iterator[Any]:
        return iter(self._items[::-1])

    def insert(self, index: int, value: Any) -> None:
        self._check()
        self._items.insert(index, value)

    def __eq__(self, other: object) -> bool:
        return list(self) == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}(frozen={self._frozen}, {self._items!r})>"


class Signal(FrozenList):
    """Async callbacks run in order by ``await signal.send(*args)`` (after freezing).

    A receiver's error stops the ones after it and propagates, as in aiohttp.
    """

    __slots__ = ("_owner",)

    def __init__(self, owner: Any) -> None:
        super().__init__()
        self._owner = owner

    async def send(self, *args: Any, **kwargs: Any) -> None:
        if not self._frozen:
            raise RuntimeError("Cannot send non-frozen signal.")
        for receiver in self._items:
            await receiver(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Signal owner={self._owner!r}, frozen={self._frozen}, {self._items!r}>"
