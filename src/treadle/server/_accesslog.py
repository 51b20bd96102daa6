"""The access log: one line per request in aiohttp's (Apache-like) format.

``AccessLogger(logger, log_format)`` compiles the format once into a list of small
functions; ``log(request, response, time)`` runs them only when the logger would emit
at INFO, so a disabled access log costs one ``isEnabledFor`` per request.

Tokens (as aiohttp): ``%a`` remote address, ``%t`` start time, ``%P`` pid, ``%r`` first
request line, ``%s`` status, ``%b`` body bytes sent, ``%T`` seconds, ``%Tf`` seconds with
a fraction, ``%D`` microseconds, ``%{Name}i`` a request header, ``%{Name}o`` a response
header.
"""

from __future__ import annotations

import abc
import datetime
import functools
import logging
import os
import re
from collections.abc import Callable
from typing import Any, ClassVar

__all__ = ["AbstractAccessLogger", "AccessLogger", "access_logger"]

access_logger = logging.getLogger("treadle.access")


class AbstractAccessLogger(abc.ABC):
    """Base of access loggers: subclass and implement :meth:`log`."""

    __slots__ = ("log_format", "logger")

    def __init__(self, logger: logging.Logger, log_format: str) -> None:
        self.logger = logger
        self.log_format = log_format

    @abc.abstractmethod
    def log(self, request: Any, response: Any, time: float) -> None:
        """Record one request; ``time`` is how long it took, in seconds."""

    @property
    def enabled(self) -> bool:
        """Whether :meth:`log` would write anything (checked before timing a request)."""
        return self.logger.isEnabledFor(logging.INFO)


_Value = Callable[[Any, Any, float], Any]


class AccessLogger(AbstractAccessLogger):
    """The default access logger (aiohttp's format tokens and default format)."""

    __slots__ = ("_fields", "_format")

    LOG_FORMAT: ClassVar[str] = '%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"'
    FORMAT_RE: ClassVar[re.Pattern[str]] = re.compile(
        r"%(\{([A-Za-z0-9\-_]+)\}([ioe])|[atPrsbOD]|Tf?)"
    )
    CLEANUP_RE: ClassVar[re.Pattern[str]] = re.compile(r"(%[^s])")

    def __init__(self, logger: logging.Logger, log_format: str = LOG_FORMAT) -> None:
        super().__init__(logger, log_format)
        self._format, self._fields = _compile(log_format)

    def log(self, request: Any, response: Any, time: float) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        try:
            values = []
            extra: dict[str, Any] = {}
            for key, getter in self._fields:
                value = getter(request, response, time)
                values.append(value)
                if isinstance(key, tuple):
                    extra.setdefault(key[0], {})[key[1]] = value
                else:
                    extra[key] = value
            self.logger.info(self._format % tuple(values), extra=extra)
        except Exception:
            self.logger.exception("Error in logging")


@functools.lru_cache(maxsize=16)
def _compile(log_format: str) -> tuple[str, list[tuple[Any, _Value]]]:
    """The %-format string and the (key, getter) of every token of ``log_format``."""
    fields: list[tuple[Any, _Value]] = []
    for match in AccessLogger.FORMAT_RE.finditer(log_format):
        token = match.group(1)
        if token.startswith("{"):
            name, kind = match.group(2), match.group(3)
            if kind == "i":
                fields.append((("request_header", name), _request_header(name)))
            elif kind == "o":
                fields.append((("response_header", name), _response_header(name)))
            else:
                fields.append((("environ", name), _environ(name)))
        else:
            fields.append(_SIMPLE[token])
    pattern = AccessLogger.FORMAT_RE.sub(r"%s", log_format)
    pattern = AccessLogger.CLEANUP_RE.sub(r"%\1", pattern)
    return pattern, fields


def _request_header(name: str) -> _Value:
    def get(request: Any, response: Any, time: float) -> str:
        return str(request.headers.get(name, "-"))

    return get


def _response_header(name: str) -> _Value:
    def get(request: Any, response: Any, time: float) -> str:
        headers = getattr(response, "headers", None)
        return "-" if headers is None else str(headers.get(name, "-"))

    return get


def _environ(name: str) -> _Value:
    def get(request: Any, response: Any, time: float) -> str:
        return os.environ.get(name, "-")

    return get


def _remote(request: Any, response: Any, time: float) -> str:
    remote = request.remote
    return "-" if remote is None else str(remote)


def _start_time(request: Any, response: Any, time: float) -> str:
    now = datetime.datetime.now(datetime.UTC).astimezone()
    start = now - datetime.timedelta(seconds=time)
    return start.strftime("[%d/%b/%Y:%H:%M:%S %z]")


def _pid(request: Any, response: Any, time: float) -> str:
    return f"<{os.getpid()}>"


def _first_line(request: Any, response: Any, time: float) -> str:
    version = request.version
    return f"{request.method} {request.path_qs} HTTP/{version[0]}.{version[1]}"


def _status(request: Any, response: Any, time: float) -> int:
    return int(response.status)


def _size(request: Any, response: Any, time: float) -> int:
    return int(getattr(response, "body_length", 0))


def _seconds(request: Any, response: Any, time: float) -> int:
    return round(time)


def _seconds_frac(request: Any, response: Any, time: float) -> str:
    return f"{time:06f}"


def _micro(request: Any, response: Any, time: float) -> int:
    return round(time * 1_000_000)


_SIMPLE: dict[str, tuple[str, _Value]] = {
    "a": ("remote_address", _remote),
    "t": ("request_start_time", _start_time),
    "P": ("process_id", _pid),
    "r": ("first_request_line", _first_line),
    "s": ("response_status", _status),
    "b": ("response_size", _size),
    "O": ("response_size", _size),
    "T": ("request_time", _seconds),
    "Tf": ("request_time_frac", _seconds_frac),
    "D": ("request_time_micro", _micro),
}
