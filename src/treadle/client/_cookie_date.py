"""Cookie dates: the lenient parser of RFC 6265 5.1.1 and the IMF-fixdate writer.

Servers send ``Expires`` in many shapes (RFC 1123, RFC 850, asctime, two-digit years);
RFC 6265 5.1.1 defines one tolerant algorithm for all of them, which browsers follow.
"""

from __future__ import annotations

import calendar
import functools
import re
import time

__all__ = ["format_cookie_date", "parse_cookie_date"]

# RFC 6265 5.1.1: delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E; the tokens
# are the runs of everything else.
_TOKENS = re.compile(r"[^\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
# Each production is "digits, then either the end or a non-digit and anything".
_TIME = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D|$)")
_DAY = re.compile(r"(\d{1,2})(?:\D|$)")
_YEAR = re.compile(r"(\d{2,4})(?:\D|$)")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# datetime (and so calendar.timegm) stops at year 9999; later dates are clamped there.
MAX_COOKIE_TIME = float(calendar.timegm((9999, 12, 31, 23, 59, 59)))


@functools.lru_cache(maxsize=256)
def parse_cookie_date(text: str) -> float | None:
    """Seconds since the epoch for a cookie-date, or None when RFC 6265 5.1.1 fails it.

    Cached: the Set-Cookie parser validates each Expires and the jar then reads the
    same text again, and a server repeats the same date across responses.
    """
    hms: tuple[int, int, int] | None = None
    day = month = year = None
    for token in _TOKENS.findall(text):
        if hms is None and (m := _TIME.match(token)):
            hms = (int(m[1]), int(m[2]), int(m[3]))
        elif day is None and (m := _DAY.match(token)):
            day = int(m[1])
        elif month is None and token[:3].lower() in _MONTHS:
            month = _MONTHS.index(token[:3].lower()) + 1
        elif year is None and (m := _YEAR.match(token)):
            year = int(m[1])
    if hms is None or day is None or month is None or year is None:
        return None
    # Step 3 and 4: two-digit years.
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = hms
    # Step 5: ranges; step 6: the date must exist (no 31 February).
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    if day > calendar.monthrange(year, month)[1]:
        return None
    return float(calendar.timegm((year, month, day, hour, minute, second)))


def format_cookie_date(timestamp: float) -> str:
    """The IMF-fixdate form (RFC 9110 5.6.7) servers use in ``Expires``."""
    t = time.gmtime(min(max(timestamp, 0.0), MAX_COOKIE_TIME))
    # Spelled out, not strftime's %a/%b, which follow the C locale.
    weekday = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[t.tm_wday]
    month = _MONTHS[t.tm_mon - 1].capitalize()
    return (
        f"{weekday}, {t.tm_mday:02d} {month} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )
