"""Terms: a statement about one package, positive ("a is selected in S") or negative.

A negative term ``not a in S`` is also satisfied when ``a`` is not selected at all,
which is why terms cannot simply be collapsed into version sets (solver.md, "Term").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache

from ghostenv.resolve.version_set import VersionSet

__all__ = ["Relation", "Term"]


class Relation(enum.Enum):
    """How a term relates to what is already known about its package."""

    SATISFIED = "satisfied"
    CONTRADICTED = "contradicted"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class Term:
    package: str
    versions: VersionSet
    positive: bool = True

    def negate(self) -> Term:
        return Term(self.package, self.versions, not self.positive)

    def intersect(self, other: Term) -> Term:
        """The term satisfied exactly when both are (same package)."""
        a, b = self.versions, other.versions
        if self.positive and other.positive:
            return Term(self.package, a & b, True)
        if self.positive:
            return Term(self.package, a.difference(b), True)
        if other.positive:
            return Term(self.package, b.difference(a), True)
        return Term(self.package, a | b, False)

    def union(self, other: Term) -> Term:
        return self.negate().intersect(other.negate()).negate()

    def difference(self, other: Term) -> Term:
        return self.intersect(other.negate())

    @property
    def is_empty(self) -> bool:
        """True when no assignment can satisfy the term."""
        return self.positive and self.versions.is_empty

    @property
    def is_any(self) -> bool:
        """True when every assignment (including "not selected") satisfies the term."""
        return not self.positive and self.versions.is_empty

    def satisfied_by(self, known: Term) -> bool:
        """Whether knowing ``known`` about the package implies this term."""
        if known.positive:
            if self.positive:
                return known.versions.is_subset(self.versions)
            return known.versions.is_disjoint(self.versions)
        if self.positive:
            return False
        return self.versions.is_subset(known.versions)

    def relation(self, known: Term) -> Relation:
        return _relation(self, known)

    def __str__(self) -> str:
        return (
            _describe(self.package, self.versions)
            if self.positive
            else (f"not {_describe(self.package, self.versions)}")
        )


@lru_cache(maxsize=65536)
def _relation(term: Term, known: Term) -> Relation:
    """Memoized: propagation asks the same question for every incompatibility of a package."""
    if term.satisfied_by(known):
        return Relation.SATISFIED
    if term.intersect(known).is_empty:
        return Relation.CONTRADICTED
    return Relation.INCONCLUSIVE


def _describe(package: str, versions: VersionSet) -> str:
    text = str(versions)
    if text == "*":
        return package
    if " | " in text:
        return " | ".join(f"{package}{part}" for part in text.split(" | "))
    return f"{package}{text}"
