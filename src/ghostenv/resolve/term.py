"""Terms: a statement about one package, positive ("a is selected in S") or negative.

A negative term ``not a in S`` is also satisfied when ``a`` is not selected at all,
which is why terms cannot simply be collapsed into version sets (solver.md, "Term").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ghostenv.resolve.version_set import VersionSet

__all__ = ["Relation", "Term", "clear_relation_cache"]


class Relation(enum.Enum):
    """How a term relates to what is already known about its package."""

    SATISFIED = "satisfied"
    CONTRADICTED = "contradicted"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True, eq=False)
class Term:
    package: str
    versions: VersionSet
    positive: bool = True

    # by hand: the generated ones build two tuples per comparison, and propagation
    # compares and hashes terms (memo keys) in its innermost loop
    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, Term)
            and self.positive is other.positive
            and self.package == other.package
            and self.versions == other.versions
        )

    def __hash__(self) -> int:
        return hash((self.package, self.versions, self.positive))

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


# (id(term), id(known)) -> (term, known, relation): the value keeps both terms alive, so
# an id is never reused while its key is here. Terms are long-lived objects (clauses and
# the partial solution's accumulated terms), so identity hits as often as equality would,
# at the cost of two id() calls instead of hashing two terms.
_RELATIONS: dict[tuple[int, int], tuple[Term, Term, Relation]] = {}
_RELATIONS_MAX = 250_000


def _relation(term: Term, known: Term) -> Relation:
    """Memoized: propagation asks the same question for every incompatibility of a package."""
    key = (id(term), id(known))
    hit = _RELATIONS.get(key)
    if hit is not None:
        return hit[2]
    # satisfied_by() and intersect().is_empty spelled out on the version sets: most
    # questions are new (cold), and this skips building the intersected Term, and
    # for two negative terms the union (a negative term is never empty)
    a, b = term.versions, known.versions
    if known.positive:
        if term.positive:
            if b.is_subset(a):
                found = Relation.SATISFIED
            elif a.intersection(b).is_empty:
                found = Relation.CONTRADICTED
            else:
                found = Relation.INCONCLUSIVE
        elif b.is_disjoint(a):
            found = Relation.SATISFIED
        elif b.difference(a).is_empty:
            found = Relation.CONTRADICTED
        else:
            found = Relation.INCONCLUSIVE
    elif term.positive:
        found = Relation.CONTRADICTED if a.difference(b).is_empty else Relation.INCONCLUSIVE
    else:
        found = Relation.SATISFIED if a.is_subset(b) else Relation.INCONCLUSIVE
    if len(_RELATIONS) >= _RELATIONS_MAX:
        _RELATIONS.clear()
    _RELATIONS[key] = (term, known, found)
    return found


def clear_relation_cache() -> None:
    """Forget memoized relations (benchmarks measure cold runs)."""
    _RELATIONS.clear()


def _describe(package: str, versions: VersionSet) -> str:
    text = str(versions)
    if text == "*":
        return package
    if " | " in text:
        return " | ".join(f"{package}{part}" for part in text.split(" | "))
    return f"{package}{text}"
