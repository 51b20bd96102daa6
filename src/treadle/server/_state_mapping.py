"""The mapping behaviour requests, responses and applications share.

aiohttp's ``Request``, ``StreamResponse`` and ``Application`` are mutable mappings for
user state, yet compare and hash by identity and are truthy even when empty (an empty
mapping would be falsy, and two fresh requests would compare equal).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["IdentityMapping", "LazyStateMapping"]


class IdentityMapping:
    """Equality and hash by identity, always truthy: put before ``MutableMapping``."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        return True


class LazyStateMapping(IdentityMapping):
    """Mapping methods over ``self._state``, a dict made on first write: most requests and
    responses store nothing, so none is allocated for them."""

    __slots__ = ()

    # The subclass provides the slot (or a class default of None).
    _state: dict[str, Any] | None

    def _storage(self) -> dict[str, Any]:
        state = self._state
        if state is None:
            state = self._state = {}  # type: ignore[misc]  # slot of the subclass
        return state

    def __getitem__(self, key: str) -> Any:
        return self._storage()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._storage()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._storage()[key]

    def __len__(self) -> int:
        return 0 if self._state is None else len(self._state)

    def __iter__(self) -> Iterator[str]:
        return iter(self._storage())
