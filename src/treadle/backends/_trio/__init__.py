"""trio backend: trio sockets, system tasks per connection, cancel-scope deadlines."""

from __future__ import annotations

from ._backend import TrioBackend
from ._connection import TrioConnection
from ._listener import TrioListener

__all__ = ["TrioBackend", "TrioConnection", "TrioListener"]
