"""PEP 440 version sets: the values a PubGrub term ranges over.

Plain sets (everything but ``===``) are sorted cut tuples with their own
algebra (:mod:`ghostenv.resolve.version_cuts`), 5-10x cheaper than
:class:`packaging.ranges.VersionRange` on the solver's small sets. Specifiers
are cut by PEP 440's rules as packaging implements them (local versions, ``<V``
excluding V's prereleases, ``>V`` its post releases, ``==1.*``), and
tests/resolve/test_version_cuts.py holds every result to packaging's range:
members, canonical form, emptiness, subset/disjoint and the printed text. A set
with a ``===`` literal keeps packaging's range and its algebra. Every set
admits prereleases: the prerelease *policy* is a decision of the Python layer
(which candidates to offer), not of the algebra.

Why memoized: the solver asks the same few questions over and over (the same
term intersected with the same assignment on every propagation). Each
operation is computed once per pair of operand *objects* and then looked up;
parsing and singletons are cached by text, so the same requirement is the same
object. Keying by identity rather than equality keeps spellings apart (``>1``
and ``>1.0`` are equal sets but print differently), so what a report prints
never depends on what the process computed before. Equality stays structural.
The tables only grow; they are per process and hold a few thousand entries
for a large resolution.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Any

from packaging._ranges import BoundaryKind, BoundaryVersion, LowerBound, UpperBound
from packaging.ranges import VersionRange
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ghostenv.resolve import version_cuts as vc
from ghostenv.resolve.version_cuts import NEG, POS, Cut, Points

__all__ = ["VersionSet", "clear_caches"]

_SIMPLE = re.compile(r"(==|!=|<=|>=|<|>)(\d+(?:\.\d+)*)").fullmatch

_Memo = dict[tuple[int, int], tuple["VersionSet", "VersionSet", "VersionSet"]]
_Test = dict[tuple[int, int], tuple["VersionSet", "VersionSet", bool]]

# Keyed by (id(a), id(b)); each value holds its operands too, so an id is never
# reused by another object while its key is in the table.
_AND: _Memo = {}
_OR: _Memo = {}
_SUB: _Memo = {}
_SUBSET: _Test = {}
_DISJOINT: _Test = {}
_PARSED: dict[str, VersionSet] = {}
_SINGLETONS: dict[str, VersionSet] = {}
_SINGLETON_IDS: dict[int, tuple[Version, VersionSet]] = {}


def clear_caches() -> None:
    """Forget every memoized operation and parse (benchmarks call this to measure cold)."""
    for table in (_AND, _OR, _SUB, _SUBSET, _DISJOINT, _PARSED, _SINGLETONS, _SINGLETON_IDS):
        table.clear()
    for kept in (_FULL, _EMPTY):
        kept._complement = None


def _probe(version: Version) -> Cut:
    """Where a version sits among cuts: above (key, 0), below (key, 1)."""
    return (version._key, 0.5)  # type: ignore[return-value]


class VersionSet:
    """An immutable set of versions supporting union, intersection and complement.

    Build them with :meth:`parse`, :meth:`singleton`, :meth:`full`, :meth:`empty`
    or :meth:`from_range`; operations are memoized (module docstring).
    """

    __slots__ = ("_complement", "_cuts", "_full", "_hash", "_points", "_range", "_single")

    _cuts: tuple[Cut, ...] | None  # None: a ``===`` set, see _range
    _points: Points
    _range: VersionRange | None  # packaging's form: always for ``===``, lazily otherwise
    _hash: int
    _complement: VersionSet | None
    _single: Version | None  # the one member of a singleton(): set algebra by membership
    _full: bool  # every version (a plain set; a ``===`` set says False)

    def __init__(
        self, cuts: tuple[Cut, ...] | None, points: Points = (), rng: VersionRange | None = None
    ) -> None:
        self._cuts = cuts
        self._full = cuts == _FULL_CUTS
        self._points = points
        self._range = rng
        self._hash = -1
        self._complement = None
        self._single = None

    @classmethod
    def from_range(cls, version_range: VersionRange) -> VersionSet:
        """From packaging's range (built with ``prereleases=True``)."""
        rng = version_range
        if rng._admit or rng._reject or (rng._admit_arbitrary and rng._bounds):
            return cls(None, (), rng)
        cuts: list[Cut] = []
        points: list[Version | None] = []
        for lower, upper in rng._bounds:
            for bound, is_lower in ((lower, True), (upper, False)):
                inner = bound.version
                if inner is None:
                    cut, point = (NEG, None) if is_lower else (POS, None)
                elif isinstance(inner, BoundaryVersion):
                    point = inner.version
                    after = inner.kind is BoundaryKind.AFTER_POSTS
                    cut = ((vc.after_posts if after else vc.after_locals)(point), 1)
                elif is_lower:
                    cut, point = (inner._key, 0 if bound.inclusive else 1), inner
                else:
                    cut, point = (inner._key, 1 if bound.inclusive else 0), inner
                cuts.append(cut)
                points.append(point)
        return cls(tuple(cuts), tuple(points), rng)

    def _as_range(self) -> VersionRange:
        """packaging's form of this set, for the ``===`` fallback."""
        rng = self._range
        if rng is None:
            assert self._cuts is not None
            bounds: list[tuple[LowerBound, UpperBound]] = []
            cuts, points = self._cuts, self._points
            for i in range(0, len(cuts), 2):
                bounds.append(
                    (_bound(cuts[i], points[i], True), _bound(cuts[i + 1], points[i + 1], False))
                )
            rng = self._range = VersionRange._build(tuple(bounds), prereleases_configured=True)
        return rng

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, VersionSet):
            return False
        if self._cuts is not None and other._cuts is not None:
            return self._cuts == other._cuts
        return self._as_range() == other._as_range()

    def __hash__(self) -> int:
        found = self._hash
        if found == -1:
            cuts = self._cuts
            found = self._hash = hash(cuts if cuts is not None else self._range)
        return found

    def __reduce__(self) -> tuple[Any, ...]:
        return (VersionSet.from_range, (self._as_range(),))

    @classmethod
    def full(cls) -> VersionSet:
        return _FULL

    @classmethod
    def empty(cls) -> VersionSet:
        return _EMPTY

    @classmethod
    def singleton(cls, version: Version | str) -> VersionSet:
        # by identity (the solver asks for the same version objects again and again);
        # text by spelling: Version("1.0") == Version("1") but they print differently
        hit = _SINGLETON_IDS.get(id(version))
        if hit is not None and hit[0] is version:
            return hit[1]
        if not isinstance(version, Version):
            found = _SINGLETONS.get(version)
            if found is None:
                found = _SINGLETONS[version] = cls.singleton(Version(version))
            return found
        if version._dev is None:
            # no boundary's least successor and not the 0.dev0 floor: nothing to fold
            key = version._key_cache or version._key
            found = cls(((key, 0), (key, 1)), (version, version))
        else:
            lower, lpoint = vc.lower_cut(version, True)
            upper, upoint = vc.upper_cut(version, True)
            found = cls(*vc.normalize([lower, upper], [lpoint, upoint]))
        found._single = version
        _SINGLETON_IDS[id(version)] = (version, found)  # the value keeps the id unique
        return found

    @classmethod
    def between(cls, below: Version | None, above: Version | None) -> VersionSet:
        """``>below,<above`` (either side may be open; local labels are ignored, as a
        specifier cannot carry them), built from the versions without parsing text."""
        lower: Cut = NEG
        upper: Cut = POS
        low_point = high_point = None
        if below is not None:
            if below._local is not None:
                below = Version(below.public)
            lower, low_point = vc.greater(below)
        if above is not None:
            if above._local is not None:
                above = Version(above.public)
            found = vc.less(above)
            if found is None:
                return _EMPTY
            upper, high_point = found
        # each cut is canonical on its own, so the interval is, unless it is empty
        if not lower < upper:
            return _EMPTY
        return cls((lower, upper), (low_point, high_point))

    @classmethod
    def parse(cls, specifier: str | SpecifierSet) -> VersionSet:
        """Build from a specifier set (``>=1,<2``, ``==1.*``, ``~=1.4``, ``!=1.5``, ``===x``)."""
        text = str(specifier).strip()
        if not text:
            return _FULL
        found = _PARSED.get(text)
        if found is None:
            simple = _SIMPLE(text)
            if simple is not None:
                # one comparison with a plain release ("==2", ">=1.4"): always a valid
                # specifier, so packaging's parser has nothing to check
                found = cls(*vc.specifier(simple[1], simple[2]))
                _PARSED[text] = found
                return found
            parsed = SpecifierSet(text, prereleases=True)
            specs = [(spec.operator, spec.version) for spec in parsed]
            if any(op == "===" for op, _ in specs):
                found = cls.from_range(parsed.to_range())
            else:
                cuts: tuple[Cut, ...] = _FULL_CUTS
                points: Points = (None, None)
                for op, version in specs:
                    more, more_points = vc.specifier(op, version)
                    cuts, points = vc.intersection(cuts, points, more, more_points)
                found = cls(cuts, points)
            _PARSED[text] = found
        return found

    # A decision is a singleton, and most questions the solver asks pair one with a
    # range: membership answers them without building a new set.

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
            a, b = self._cuts, other._cuts
            if a is not None and b is not None:
                found = VersionSet(*vc.intersection(a, self._points, b, other._points))
            else:
                found = VersionSet.from_range(self._as_range() & other._as_range())
            hit = _AND[key] = (self, other, found)
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
            a, b = self._cuts, other._cuts
            if a is not None and b is not None:
                found = VersionSet(*vc.union(a, self._points, b, other._points))
            else:
                found = VersionSet.from_range(self._as_range() | other._as_range())
            hit = _OR[key] = (self, other, found)
        return hit[2]

    def complement(self) -> VersionSet:
        found = self._complement
        if found is None:
            cuts = self._cuts
            if cuts is None:
                found = VersionSet.from_range(~self._as_range())
            else:
                points = self._points
                if cuts and cuts[0] == NEG:
                    cuts, points = cuts[1:], points[1:]
                else:
                    cuts, points = (NEG, *cuts), (None, *points)
                if cuts and cuts[-1] == POS:
                    cuts, points = cuts[:-1], points[:-1]
                else:
                    cuts, points = (*cuts, POS), (*points, None)
                found = VersionSet(cuts, points)
            self._complement = found
            found._complement = self
        return found

    def difference(self, other: VersionSet) -> VersionSet:
        if self._single is not None:
            return _EMPTY if other.contains(self._single) else self
        if self is other or (other._cuts == _FULL_CUTS and self._cuts is not None):
            # no merge needed: the solver subtracts a term from itself whenever a
            # derivation restates what is known (x - x, x - *). Not for ``===``
            # literals: a non-version string is outside the full range's bounds.
            return _EMPTY
        key = (id(self), id(other))
        hit = _SUB.get(key)
        if hit is None:
            a, b = self._cuts, other._cuts
            if a is not None and b is not None:
                found = VersionSet(*vc.difference(a, self._points, b, other._points))
            else:
                found = VersionSet.from_range(self._as_range() - other._as_range())
            hit = _SUB[key] = (self, other, found)
        return hit[2]

    def is_subset(self, other: VersionSet) -> bool:
        if self is other or (other._cuts == _FULL_CUTS and self._cuts is not None):
            return True
        if self._single is not None:
            return other.contains(self._single)
        key = (id(self), id(other))
        hit = _SUBSET.get(key)
        if hit is None:
            a, b = self._cuts, other._cuts
            if a is not None and b is not None:
                found = vc.subset(a, b)
            else:
                found = self._as_range().is_subset(other._as_range())
            hit = _SUBSET[key] = (self, other, found)
        return hit[2]

    def is_disjoint(self, other: VersionSet) -> bool:
        if self._single is not None:
            return not other.contains(self._single)
        if other._single is not None:
            return not self.contains(other._single)
        key = (id(self), id(other))
        hit = _DISJOINT.get(key)
        if hit is None:
            a, b = self._cuts, other._cuts
            if a is not None and b is not None:
                found = vc.disjoint(a, b)
            else:
                found = self._as_range().is_disjoint(other._as_range())
            hit = _DISJOINT[key] = (self, other, found)
        return hit[2]

    @property
    def is_empty(self) -> bool:
        cuts = self._cuts
        return not cuts if cuts is not None else self._as_range().is_empty

    @property
    def is_full(self) -> bool:
        cuts = self._cuts
        return cuts == _FULL_CUTS if cuts is not None else self.complement().is_empty

    def contains(self, version: Version) -> bool:
        cuts = self._cuts
        if cuts is None:
            return self._as_range().contains(version)
        key = version._key_cache or version._key  # the cached key, else computed
        return bisect_right(cuts, (key, 0.5)) & 1 == 1

    @staticmethod
    def probes(versions: Sequence[Version]) -> list[Any]:
        """Where each version sits among cuts, for :meth:`slices` over the same
        sorted versions again and again (no key function called per step)."""
        return [(version._key_cache or version._key, 0.5) for version in versions]

    def filter_sorted(
        self, versions: Sequence[Version], probes: Sequence[Any] | None = None
    ) -> list[Version]:
        """The members of ``versions`` (sorted ascending), in order."""
        out: list[Version] = []
        for lo, hi in self.slices(versions, probes):
            out.extend(versions[lo:hi])
        return out

    def slices(
        self, versions: Sequence[Version], probes: Sequence[Any] | None = None
    ) -> list[tuple[int, int]]:
        """Index runs ``[lo, hi)`` of ``versions`` (sorted ascending) inside the set.

        One binary search per cut instead of a membership test per version: a
        project with 5,000 releases is filtered in a few dozen comparisons.
        ``probes`` (from :meth:`probes`) saves computing each version's position.
        """
        cuts = self._cuts
        if cuts is None:
            rng = self._as_range()
            return [(i, i + 1) for i, v in enumerate(versions) if rng.contains(v)]
        out: list[tuple[int, int]] = []
        for i in range(0, len(cuts), 2):
            if probes is None:
                lo = bisect_left(versions, cuts[i], key=_probe)
                hi = bisect_left(versions, cuts[i + 1], key=_probe)
            else:
                lo = bisect_left(probes, cuts[i])
                hi = bisect_left(probes, cuts[i + 1], lo)
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
        cuts = self._cuts
        if cuts is None:
            return str(self._as_range())
        points = self._points
        parts = []
        for i in range(0, len(cuts), 2):
            lo_point, hi_point = points[i], points[i + 1]
            lo = None if lo_point is None else vc.point_text(cuts[i], lo_point)
            hi = None if hi_point is None else vc.point_text(cuts[i + 1], hi_point)
            if lo is not None and lo == hi:
                parts.append(f"=={lo}")
                continue
            pieces = []
            if lo is not None:
                lo_inc = cuts[i][1] == 0
                if lo_inc and lo.endswith(".dev0"):
                    lo = lo[: -len(".dev0")]
                pieces.append((">=" if lo_inc else ">") + lo)
            if hi is not None:
                hi_inc = cuts[i + 1][1] == 1
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


def _bound(cut: Cut, point: Version | None, lower: bool) -> Any:
    """packaging's LowerBound/UpperBound for one cut."""
    if point is None:
        return LowerBound(None, False) if lower else UpperBound(None, False)
    if vc.is_boundary(cut):
        after_posts = cut[0][2][3] == float("inf")
        kind = BoundaryKind.AFTER_POSTS if after_posts else BoundaryKind.AFTER_LOCALS
        boundary = BoundaryVersion(point, kind)
        return LowerBound(boundary, False) if lower else UpperBound(boundary, True)
    point = vc.real_point(cut, point)
    if lower:
        return LowerBound(point, cut[1] == 0)
    return UpperBound(point, cut[1] == 1)


_FULL_CUTS: tuple[Cut, ...] = (NEG, POS)
_FULL = VersionSet(_FULL_CUTS, (None, None))
_EMPTY = VersionSet((), ())
