"""Byte ranges (RFC 9110 14): which parts of a representation a ``Range`` asks for.

Ranges come from the peer, so the set is bounded: more than ``MAX_RANGES`` ranges, or
overlapping ones (RFC 9110 14.2 names both as signs of a broken client or of a
denial-of-service attempt), make the server ignore the header and send the whole
representation, which RFC 9110 allows.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Final

__all__ = ["MAX_RANGES", "RangeNotSatisfiable", "parse_ranges"]

MAX_RANGES: Final = 16


class RangeNotSatisfiable(Exception):
    """No range of the header overlaps the representation, or the header is malformed
    (aiohttp answers a malformed one with 416 too)."""


def parse_ranges(header: str, size: int) -> list[tuple[int, int]] | None:
    """``(start, end)`` pairs (end exclusive) for a representation of ``size`` bytes.

    None means "ignore the header" (another unit, too many or overlapping ranges);
    raises :class:`RangeNotSatisfiable` when nothing can be served (RFC 9110 15.5.17).
    """
    unit, sep, specs = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        raise RangeNotSatisfiable(f"range not in acceptable format: {header!r}")
    items = specs.split(",")
    if len(items) > MAX_RANGES:
        return None
    ranges: list[tuple[int, int]] = []
    for item in items:
        first, dash, last = item.strip().partition("-")
        first, last = first.strip(), last.strip()
        if not dash or (first and not first.isdigit()) or (last and not last.isdigit()):
            raise RangeNotSatisfiable(f"range not in acceptable format: {header!r}")
        if not first:
            if not last:
                raise RangeNotSatisfiable(f"range not in acceptable format: {header!r}")
            suffix = int(last)
            if suffix == 0 or size == 0:
                continue  # RFC 9110 14.1.3: an empty suffix selects nothing
            ranges.append((max(size - suffix, 0), size))
            continue
        start = int(first)
        end = int(last) + 1 if last else size
        if last and end <= start:
            raise RangeNotSatisfiable(f"range not in acceptable format: {header!r}")
        if start >= size:
            continue  # unsatisfiable alone; others may still be served
        ranges.append((start, min(end, size)))
    if not ranges:
        raise RangeNotSatisfiable(f"no range of {header!r} is within {size} bytes")
    ordered = sorted(ranges)
    for (_, previous_end), (next_start, _) in pairwise(ordered):
        if next_start < previous_end:
            return None
    return ranges
