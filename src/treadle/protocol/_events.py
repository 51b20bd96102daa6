"""The events of the HTTP/1.1 core: what ``next_event`` returns and ``send`` accepts.

Small slotted classes, compared by value so tests can write ``assert events == [...]``.
Header names and values are ``bytes``; names keep the case they had on the wire.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "NEED_DATA",
    "PAUSED",
    "ConnectionClosed",
    "Data",
    "EndOfMessage",
    "Event",
    "Headers",
    "InformationalResponse",
    "Request",
    "Response",
    "Sentinel",
]

Headers = list[tuple[bytes, bytes]]


class Sentinel:
    """A named marker returned by ``next_event`` when there is no event to give."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


NEED_DATA: Final = Sentinel("NEED_DATA")
"""No complete event is buffered: call ``receive_data`` with more bytes."""

PAUSED: Final = Sentinel("PAUSED")
"""Parsing waits on our side: the response to the current request (pipelining) or the
answer to a protocol-switch request has not been sent yet."""


class Event:
    """Base class of every event; value equality over the slots."""

    __slots__ = ()
    _field_names: tuple[str, ...] = ()

    def __init_subclass__(cls) -> None:
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            names.extend(klass.__dict__.get("__slots__", ()))
        cls._field_names = tuple(names)

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._field_names)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._fields() == self._fields()

    def __hash__(self) -> int:  # events are mutable containers of lists: not hashable
        raise TypeError(f"{type(self).__name__} is not hashable")

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._field_names)
        return f"{type(self).__name__}({fields})"


class Request(Event):
    """A request head (RFC 9112 section 3)."""

    __slots__ = ("headers", "http_version", "method", "target")

    def __init__(
        self,
        method: bytes,
        target: bytes,
        headers: Headers | None = None,
        http_version: bytes = b"1.1",
    ) -> None:
        self.method = method
        self.target = target
        self.headers: Headers = headers if headers is not None else []
        self.http_version = http_version


class _ResponseHead(Event):
    __slots__ = ("headers", "http_version", "reason", "status_code")

    def __init__(
        self,
        status_code: int,
        headers: Headers | None = None,
        reason: bytes = b"",
        http_version: bytes = b"1.1",
    ) -> None:
        self.status_code = status_code
        self.headers: Headers = headers if headers is not None else []
        self.reason = reason
        self.http_version = http_version


class InformationalResponse(_ResponseHead):
    """A 1xx interim response (RFC 9110 section 15.2), e.g. ``100 Continue`` or ``101``."""

    __slots__ = ()


class Response(_ResponseHead):
    """A final response head (status 200-599)."""

    __slots__ = ()


class Data(Event):
    """A piece of a message body, already de-chunked."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


class EndOfMessage(Event):
    """The end of a message body; ``headers`` holds chunked trailers (RFC 9112 7.1.2)."""

    __slots__ = ("headers",)

    def __init__(self, headers: Headers | None = None) -> None:
        self.headers: Headers = headers if headers is not None else []


class ConnectionClosed(Event):
    """The peer closed its sending side (``receive_data(b"")``) at a message boundary."""

    __slots__ = ()
