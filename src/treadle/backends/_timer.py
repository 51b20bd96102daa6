"""What every backend's re-armable timer shares: the deadline and the callback policy."""

from __future__ import annotations

from collections.abc import Callable

from ._connection import logger

__all__ = ["BaseTimer"]


class BaseTimer:
    """State common to :class:`treadle.backends.Timer` implementations.

    A backend schedules the wake-up; :meth:`_set_deadline` and :meth:`_expire` keep the
    rules (no arming once closed, one callback per arm, errors logged) the same everywhere.
    """

    __slots__ = ("_callback", "_closed", "_deadline")

    def __init__(self, callback: Callable[[], object]) -> None:
        self._callback = callback
        self._deadline: float | None = None
        self._closed = False

    @property
    def deadline(self) -> float | None:
        return self._deadline

    def _set_deadline(self, deadline: float) -> None:
        if self._closed:
            raise RuntimeError("timer is closed")
        self._deadline = deadline

    def _expire(self) -> None:
        """The deadline has passed: disarm, then run the callback (errors are logged)."""
        self._deadline = None
        try:
            self._callback()
        except Exception:
            # Logged here rather than left to the event loop's exception handler.
            logger.exception("timer callback %r failed", self._callback)
