"""PEP 440 version sets: the values a PubGrub term ranges over.

A thin, hashable wrapper over :class:`packaging.ranges.VersionRange`. Every set
is built with ``prereleases=True`` so membership is plain set membership: the
prerelease *policy* is a decision of the Python layer (which candidates to
offer), not of the algebra, and mixing policies would make ranges incomparable.
"""

from __future__ import annotations

from packaging.ranges import VersionRange
from packaging.specifiers import SpecifierSet
from packaging.version import Version

__all__ = ["VersionSet"]


def _bound_text(bound: object) -> str:
    version = getattr(bound, "version", None)
    inner = getattr(version, "version", version)  # BoundaryVersion wraps a Version
    return str(inner)


class VersionSet:
    """An immutable set of versions supporting union, intersection and complement."""

    __slots__ = ("_range",)

    def __init__(self, version_range: VersionRange) -> None:
        self._range = version_range

    @classmethod
    def full(cls) -> VersionSet:
        return _FULL

    @classmethod
    def empty(cls) -> VersionSet:
        return _EMPTY

    @classmethod
    def singleton(cls, version: Version | str) -> VersionSet:
        return cls(VersionRange.singleton(version, prereleases=True))

    @classmethod
    def parse(cls, specifier: str | SpecifierSet) -> VersionSet:
        """Build from a specifier set (``>=1,<2``, ``==1.*``, ``~=1.4``, ``!=1.5``, ``===x``)."""
        text = str(specifier).strip()
        if not text:
            return _FULL
        return cls(SpecifierSet(text, prereleases=True).to_range())

    def intersection(self, other: VersionSet) -> VersionSet:
        return VersionSet(self._range & other._range)

    def union(self, other: VersionSet) -> VersionSet:
        return VersionSet(self._range | other._range)

    def complement(self) -> VersionSet:
        return VersionSet(~self._range)

    def difference(self, other: VersionSet) -> VersionSet:
        return VersionSet(self._range - other._range)

    def is_subset(self, other: VersionSet) -> bool:
        return self._range.is_subset(other._range)

    def is_disjoint(self, other: VersionSet) -> bool:
        return self._range.is_disjoint(other._range)

    @property
    def is_empty(self) -> bool:
        return self._range.is_empty

    @property
    def is_full(self) -> bool:
        return (~self._range).is_empty

    def contains(self, version: Version) -> bool:
        return self._range.contains(version)

    __contains__ = contains
    __and__ = intersection
    __or__ = union

    def __invert__(self) -> VersionSet:
        return self.complement()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VersionSet) and self._range == other._range

    def __hash__(self) -> int:
        return hash(self._range)

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
