"""PEP 440 version sets: the values a PubGrub term ranges over.

A thin wrapper over :class:`packaging.ranges.VersionRange`. Every set is built
with ``prereleases=True`` so membership is plain set membership: the prerelease
*policy* is a decision of the Python layer (which candidates to offer), not of
the algebra, and mixing policies would make ranges incomparable.

Why memoized: the solver asks the same few questions over and over (the same
term intersected with the same assignment on every propagation), and one
``VersionRange`` operation costs 5-30 us in pure Python. Each operation is
computed once per pair of operand *objects* and then looked up (a dict hit by
identity is far cheaper); parsing and singletons are cached by text, so the
same requirement is the same object. Keying by identity rather than equality
keeps spellings apart (``>1`` and ``>1.0`` are equal sets but print
differently), so what a report prints never depends on what the process
computed before. Equality stays structural. The tables only grow; they are per
process and hold a few thousand entries for a large resolution.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any

from packaging.ranges import VersionRange
from packaging.specifiers import SpecifierSet
from packaging.version import Version

__all__ = ["VersionSet", "clear_caches"]


def _bound_text(bound: object) -> str:
    version = getattr(bound, "version", None)
    inner = getattr(version, "version", version)  # BoundaryVersion wraps a Version
    return str(inner)


# Keyed by (id(a), id(b)); each value holds its operands too, so an id is never
# reused by another object while its key is in the table.
_AND: dict[tuple[int, int], tuple[VersionSet, VersionSet, VersionSet]] = {}
_OR: dict[tuple[int, int], tuple[VersionSet, VersionSet, VersionSet]] = {}
_SUB: dict[tuple[int, int], tuple[VersionSet, VersionSet, VersionSet]] = {}
_SUBSET: dict[tuple[int, int], tuple[VersionSet, VersionSet, bool]] = {}
_DISJOINT: dict[tuple[int, int], tuple[VersionSet, VersionSet, bool]] = {}
_CONTAINS: dict[tuple[int, int], tuple[VersionSet, Version, bool]] = {}
_CONTAINS_MAX = 250_000
_PARSED: dict[str, VersionSet] = {}
_SINGLETONS: dict[tuple[Version, tuple[int, ...]], VersionSet] = {}


def clear_caches() -> None:
    """Forget every memoized operation and parse (benchmarks call this to measure cold)."""
    for table in (_AND, _OR, _SUB, _SUBSET, _DISJOINT, _CONTAINS, _PARSED, _SINGLETONS):
        table.clear()
    for kept in (_FULL, _EMPTY):
        kept._complement = None


def _outside(below: Callable[[Version], bool]) -> Callable[[Version], bool]:
    def key(version: Version) -> bool:
        return not below(version)

    return key


class VersionSet:
    """An immutable set of versions supporting union, intersection and complement.

    Build them with ``VersionSet(range)``, :meth:`parse`, :meth:`singleton`,
    :meth:`full` or :meth:`empty`; operations are memoized (module docstring).
    """

    __slots__ = ("_complement", "_empty", "_full", "_hash", "_range", "_single")

    _range: VersionRange
    _hash: int
    _complement: VersionSet | None
    _empty: bool | None
    _full: bool | None
    _single: Version | None  # the one member of a singleton(): set algebra by membership

    def __new__(cls, version_range: VersionRange) -> VersionSet:
        found = object.__new__(cls)
        found._range = version_range
        found._hash = -1
        found._complement = None
        found._empty = None
        found._full = None
        found._single = None
        return found

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, VersionSet) and self._range == other._range)

    def __hash__(self) -> int:
        found = self._hash
        if found == -1:
            found = self._hash = hash(self._range)
        return found

    def __reduce__(self) -> tuple[Any, ...]:
        # copies and pickles come back through the intern table
        return (VersionSet, (self._range,))

    @classmethod
    def full(cls) -> VersionSet:
        return _FULL

    @classmethod
    def empty(cls) -> VersionSet:
        return _EMPTY

    @classmethod
    def singleton(cls, version: Version | str) -> VersionSet:
        if not isinstance(version, Version):
            version = Version(version)
        # by spelling: Version("1.0") == Version("1") but they print differently, and the
        # release tuple keeps the trailing zeros (cheaper than str(version))
        key = (version, version.release)
        found = _SINGLETONS.get(key)
        if found is None:
            found = cls(VersionRange.singleton(version, prereleases=True))
            found._single = version
            found._empty = found._full = False
            _SINGLETONS[key] = found
        return found

    @classmethod
    def parse(cls, specifier: str | SpecifierSet) -> VersionSet:
        """Build from a specifier set (``>=1,<2``, ``==1.*``, ``~=1.4``, ``!=1.5``, ``===x``)."""
        text = str(specifier).strip()
        if not text:
            return _FULL
        found = _PARSED.get(text)
        if found is None:
            found = cls(SpecifierSet(text, prereleases=True).to_range())
            _PARSED[text] = found
        return found

    # A decision is a singleton, and most questions the solver asks pair one with a
    # range: membership (a few us) answers them without building a new range.

    def intersection(self, other: VersionSet) -> VersionSet:
        if self is other:
            return self
        if self._single is not None:
            return self if other.contains(self._single) else _EMPTY
        if other._single is not None:
            return other if self.contains(other._single) else _EMPTY
        key = (id(self), id(other))
        hit = _AND.get(key)
        if hit is None:
            hit = _AND[key] = (self, other, VersionSet(self._range & other._range))
        return hit[2]

    def union(self, other: VersionSet) -> VersionSet:
        if self is other:
            return self
        if self._single is not None and other.contains(self._single):
            return other
        if other._single is not None and self.contains(other._single):
            return self
        key = (id(self), id(other))
        hit = _OR.get(key)
        if hit is None:
            hit = _OR[key] = (self, other, VersionSet(self._range | other._range))
        return hit[2]

    def complement(self) -> VersionSet:
        found = self._complement
        if found is None:
            found = self._complement = VersionSet(~self._range)
            found._complement = self
        return found

    def difference(self, other: VersionSet) -> VersionSet:
        if self._single is not None:
            return _EMPTY if other.contains(self._single) else self
        if self is other or ((other is _FULL or other._full) and self._range._is_plain()):
            # no range needed: the solver subtracts a term from itself whenever a
            # derivation restates what is known (x - x, x - *). Not for ``===``
            # literals: a non-version string is outside the full range's bounds.
            return _EMPTY
        key = (id(self), id(other))
        hit = _SUB.get(key)
        if hit is None:
            hit = _SUB[key] = (self, other, VersionSet(self._range - other._range))
        return hit[2]

    def is_subset(self, other: VersionSet) -> bool:
        if self is other or ((other is _FULL or other._full) and self._range._is_plain()):
            return True
        if self._single is not None:
            return other.contains(self._single)
        key = (id(self), id(other))
        hit = _SUBSET.get(key)
        if hit is None:
            hit = _SUBSET[key] = (self, other, self._range.is_subset(other._range))
        return hit[2]

    def is_disjoint(self, other: VersionSet) -> bool:
        if self._single is not None:
            return not other.contains(self._single)
        if other._single is not None:
            return not self.contains(other._single)
        key = (id(self), id(other))
        hit = _DISJOINT.get(key)
        if hit is None:
            hit = _DISJOINT[key] = (self, other, self._range.is_disjoint(other._range))
        return hit[2]

    @property
    def is_empty(self) -> bool:
        found = self._empty
        if found is None:
            found = self._empty = self._range.is_empty
        return found

    @property
    def is_full(self) -> bool:
        found = self._full
        if found is None:
            found = self._full = self.complement().is_empty
        return found

    def contains(self, version: Version) -> bool:
        # memoized like the operations: a decision's version is tested against the
        # same few sets again and again (singleton algebra is by membership), and a
        # range's contains() costs a few us
        key = (id(self), id(version))
        hit = _CONTAINS.get(key)
        if hit is None:
            if len(_CONTAINS) >= _CONTAINS_MAX:
                _CONTAINS.clear()
            hit = _CONTAINS[key] = (self, version, self._range.contains(version))
        return hit[2]

    def filter_sorted(self, versions: Sequence[Version]) -> list[Version]:
        """The members of ``versions`` (sorted ascending), in order."""
        out: list[Version] = []
        for lo, hi in self.slices(versions):
            out.extend(versions[lo:hi])
        return out

    def slices(self, versions: Sequence[Version]) -> list[tuple[int, int]]:
        """Index runs ``[lo, hi)`` of ``versions`` (sorted ascending) inside the set.

        One binary search per interval end instead of a membership test per
        version: a project with 5,000 releases is filtered in a few dozen
        comparisons.
        """
        rng = self._range
        bounds = rng._bounds
        if rng._admit or rng._reject or any(
            not hasattr(lower, "_above") or not hasattr(upper, "_below")
            for lower, upper in bounds
        ):
            inside = [i for i, v in enumerate(versions) if rng.contains(v)]
            return [(i, i + 1) for i in inside]
        out: list[tuple[int, int]] = []
        for lower, upper in bounds:
            above: Callable[[Version], bool] | None = lower._above
            below: Callable[[Version], bool] | None = upper._below
            lo = 0 if above is None else bisect_left(versions, True, key=above)
            if below is None:
                hi = len(versions)
            else:
                hi = bisect_left(versions, True, key=_outside(below))
            if hi > lo:
                out.append((lo, hi))
        return out

    __contains__ = contains
    __and__ = intersection
    __or__ = union

    def __invert__(self) -> VersionSet:
        return self.complement()

    def __repr__(self) -> str:
        return f"VersionSet({self})"

    def __str__(self) -> str:
        """Human form: ``>=1.0,<2.0``, ``==1.0``, ``*``; unions joined by ``|``."""
        if self.is_empty:
            return "<empty>"
        if self.is_full:
            return "*"
        parts = []
        for lower, upper in self._range._bounds:
            lo = _bound_text(lower) if getattr(lower, "version", None) is not None else None
            hi = _bound_text(upper) if getattr(upper, "version", None) is not None else None
            lo_inc = bool(getattr(lower, "inclusive", False))
            hi_inc = bool(getattr(upper, "inclusive", False))
            if lo is not None and lo == hi:
                parts.append(f"=={lo}")
                continue
            pieces = []
            if lo is not None:
                if lo_inc and lo.endswith(".dev0"):
                    lo = lo[: -len(".dev0")]
                pieces.append((">=" if lo_inc else ">") + lo)
            if hi is not None:
                if not hi_inc and hi.endswith(".dev0"):
                    hi = hi[: -len(".dev0")]
                pieces.append(("<=" if hi_inc else "<") + hi)
            parts.append(",".join(pieces) or "*")
        strict = len(parts) == 2 and parts[0][:2] != "<=" and parts[1][:2] != ">="
        if len(parts) == 2 and strict and parts[0][0] == "<" and parts[1][0] == ">":
            left, right = parts[0][1:], parts[1][1:]
            if left == right and "," not in parts[0] + parts[1]:
                return f"!={left}"
        return " | ".join(parts)


_FULL = VersionSet(~VersionRange.empty(prereleases=True))
_EMPTY = VersionSet(VersionRange.empty(prereleases=True))
