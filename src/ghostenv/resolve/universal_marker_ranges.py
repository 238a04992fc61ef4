"""Value ranges for the marker diagrams: bounds, intervals and PEP 440 specifier ranges.

Split out of ``markers.py`` (the diagram itself); everything here is plain data
and pure functions over sorted lists of disjoint intervals.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from packaging.version import InvalidVersion, Version

TRUE = 0
FALSE = 1

# -- values, bounds and intervals -------------------------------------------
# A variable is a tuple whose natural order is the diagram order:
#   (0, i)            version key VERSION_KEYS[i]
#   (1, i)            string key STRING_KEYS[i]
#   (2, i, value)     "<key> in <value>"   (boolean)
#   (3, i, value)     "<value> in <key>"   (boolean)
#   (4, name)         extra == name        (boolean)
Var = tuple[Any, ...]

# A bound is (value, inclusive); None stands for -inf / +inf.
Bound = tuple[Any, bool] | None
Interval = tuple[Bound, Bound]
FULL: Interval = (None, None)

STRING_KEYS = (
    "os_name",
    "sys_platform",
    "platform_system",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_version",
    "implementation_name",
)
VERSION_KEYS = ("implementation_version", "python_full_version")
#: Legacy dotted spellings packaging still parses, mapped to the PEP 508 keys.
MARKER_ALIASES = {
    "os.name": "os_name",
    "sys.platform": "sys_platform",
    "platform.version": "platform_version",
    "platform.machine": "platform_machine",
    "platform.python_implementation": "platform_python_implementation",
    "python_implementation": "platform_python_implementation",
}
#: ``platform_system`` values uv rewrites to the ``sys_platform`` they imply.
#: One table for the marker algebra and the lock's ``[package.metadata]``
#: writer, so both spell a rewritten marker the same way.
SYSTEM_TO_PLATFORM = {
    "Windows": "win32",
    "Darwin": "darwin",
    "Linux": "linux",
    "AIX": "aix",
    "Emscripten": "emscripten",
    "Android": "android",
}


def _is_bool(var: Var) -> bool:
    return bool(var[0] >= 2)


def _start_key(bound: Bound) -> tuple[Any, ...]:
    if bound is None:
        return (0,)
    return (1, bound[0], 0 if bound[1] else 1)


def _is_empty(interval: Interval) -> bool:
    lo, hi = interval
    if lo is None or hi is None:
        return False
    if lo[0] > hi[0]:
        return True
    return bool(lo[0] == hi[0] and not (lo[1] and hi[1]))


def _intersect(a: Interval, b: Interval) -> Interval:
    lo = _max_lo(a[0], b[0])
    hi = _min_hi(a[1], b[1])
    return (lo, hi)


def _max_lo(x: Bound, y: Bound) -> Bound:
    if x is None:
        return y
    if y is None:
        return x
    if x[0] != y[0]:
        return x if x[0] > y[0] else y
    return x if not x[1] else y  # exclusive is tighter


def _min_hi(x: Bound, y: Bound) -> Bound:
    if x is None:
        return y
    if y is None:
        return x
    if x[0] != y[0]:
        return x if x[0] < y[0] else y
    return x if not x[1] else y


def _adjacent(left: Interval, right: Interval) -> bool:
    """``left`` ends exactly where ``right`` starts (one side inclusive)."""
    end, start = left[1], right[0]
    return end is not None and start is not None and end[0] == start[0] and end[1] != start[1]


def ranges_complement(intervals: Iterable[Interval]) -> list[Interval]:
    """Complement of a sorted list of disjoint intervals."""
    result: list[Interval] = []
    cursor: Bound = None
    started = False
    for lo, hi in intervals:
        if lo is not None:
            upper: Bound = (lo[0], not lo[1])
            if not started:
                result.append((None, upper))
            elif cursor is not None and not _is_empty((cursor, upper)):
                result.append((cursor, upper))
        started = True
        if hi is None:
            return result
        cursor = (hi[0], not hi[1])
    if not started:
        return [FULL]
    result.append((cursor, None))
    return result


def ranges_union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, merged union of intervals."""
    ordered = sorted((i for i in intervals if not _is_empty(i)), key=lambda i: _start_key(i[0]))
    result: list[Interval] = []
    for interval in ordered:
        if result:
            last = result[-1]
            if _overlaps_or_touches(last, interval):
                hi = last[1] if _hi_key(last[1]) >= _hi_key(interval[1]) else interval[1]
                result[-1] = (last[0], hi)
                continue
        result.append(interval)
    return result


def _hi_key(bound: Bound) -> tuple[Any, ...]:
    if bound is None:
        return (2,)
    return (1, bound[0], 1 if bound[1] else 0)


def _overlaps_or_touches(left: Interval, right: Interval) -> bool:
    if left[1] is None or right[0] is None:
        return True
    end, start = left[1], right[0]
    if end[0] > start[0]:
        return True
    if end[0] == start[0]:
        return bool(end[1] or start[1])
    return False


def _edges_from(true_ranges: list[Interval]) -> tuple[tuple[Interval, int], ...]:
    edges = [(i, TRUE) for i in true_ranges] + [(i, FALSE) for i in ranges_complement(true_ranges)]
    edges.sort(key=lambda e: _start_key(e[0][0]))
    return tuple(edges)


def _release(text: str) -> Version:
    """Release segments only, trailing zeros dropped (uv prints ``3.10.0`` as ``3.10``)."""
    release = list(Version(text).release)
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    return Version(".".join(map(str, release)))


def _bump(version: Version, position: int) -> Version:
    release = list(version.release[: position + 1])
    while len(release) <= position:
        release.append(0)
    release[position] += 1
    return Version(".".join(map(str, release)))


def version_ranges(op: str, text: str) -> list[Interval]:
    """The versions (release-only, like uv) a specifier admits, as sorted intervals."""
    if op in ("==", "!=") and text.endswith(".*"):
        exact = Version(text[:-2])
        upper = _bump(exact, len(exact.release) - 1)
        star: list[Interval] = [((_release(text[:-2]), True), (upper, False))]
        return star if op == "==" else ranges_complement(star)
    if op == "~=":
        exact = Version(text)
        return [((_release(text), True), (_bump(exact, len(exact.release) - 2), False))]
    version = _release(text)
    point: list[Interval] = [((version, True), (version, True))]
    table: dict[str, list[Interval]] = {
        "==": point,
        "===": point,
        "!=": ranges_complement(point),
        ">=": [((version, True), None)],
        ">": [((version, False), None)],
        "<=": [(None, (version, True))],
        "<": [(None, (version, False))],
    }
    return table[op]


def specifier_ranges(spec: Iterable[Any], *, lower_only: bool = False) -> list[Interval]:
    """The Python versions a requires-python specifier set admits, as sorted intervals.

    One intersection for both readers of requires-python: the fork's Python
    range (every clause) and the floor uv writes in fork markers, which reads
    only the lower clauses (``lower_only``) because uv ignores upper bounds
    there. Clauses whose version does not parse are skipped, as uv does.
    """
    ranges: list[Interval] = [FULL]
    for item in spec:
        if lower_only and item.operator in ("<", "<="):
            continue
        try:
            allowed = version_ranges(item.operator, item.version)
        except (InvalidVersion, KeyError):
            continue
        ranges = [
            overlap
            for mine in ranges
            for other in allowed
            if not _is_empty(overlap := _intersect(mine, other))
        ]
    return ranges
