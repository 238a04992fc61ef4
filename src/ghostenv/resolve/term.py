"""Terms: a statement about one package, positive ("a is selected in S") or negative.

A negative term ``not a in S`` is also satisfied when ``a`` is not selected at all,
which is why terms cannot simply be collapsed into version sets (solver.md, "Term").
"""

from __future__ import annotations

import enum
import itertools

from ghostenv.resolve.version_set import VersionSet

__all__ = ["Relation", "Term", "clear_relation_cache"]


class Relation(enum.Enum):
    """How a term relates to what is already known about its package."""

    SATISFIED = "satisfied"
    CONTRADICTED = "contradicted"
    INCONCLUSIVE = "inconclusive"


_serials = itertools.count()


class Term:
    """``package`` selected within ``versions`` (positive), or not (negative).

    Immutable by convention, a slotted class rather than a frozen dataclass: the
    solver builds thousands per second and a frozen dataclass's ``__init__``
    goes through ``object.__setattr__`` for every field. The hash is computed
    once (terms are memo keys in the solver's innermost loops), and ``negate``
    and ``intersect`` answers are kept on the term, so replaying the same
    derivations after a backjump yields the same objects (and memo hits). The
    memos are keyed by serial number and the negation link is one way, so terms
    form no reference cycles: a solve's terms are freed when it ends, not left
    for the garbage collector (which otherwise ran inside the next solve).
    """

    __slots__ = (
        "_and",
        "_hash",
        "_negation",
        "_priority",
        "_related",
        "_relation",
        "_relations",
        "_serial",
        "package",
        "positive",
        "versions",
    )

    package: str
    versions: VersionSet
    positive: bool

    def __init__(self, package: str, versions: VersionSet, positive: bool = True) -> None:
        self.package = package
        self.versions = versions
        self.positive = positive
        self._hash = -1
        self._serial = next(_serials)  # never reused, unlike an id: memo keys hold no term
        self._negation: Term | None = None
        self._and: dict[int, Term] | None = None
        # (provider, priority key) for the solver's decision making
        self._priority: tuple[object, tuple[tuple[int, ...], str]] | None = None
        # the relation to the last known term asked about, and to every earlier one
        self._related: Term | None = None
        self._relation: Relation | None = None
        self._relations: dict[int, Relation] | None = None

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, Term)
            and self.positive is other.positive
            and self.package == other.package
            and self.versions == other.versions
        )

    def __hash__(self) -> int:
        found = self._hash
        if found == -1:
            found = self._hash = hash((self.package, self.versions, self.positive))
        return found

    def __repr__(self) -> str:
        return f"Term({self.package!r}, {self.versions!r}, positive={self.positive})"

    def negate(self) -> Term:
        # kept one way only: a link back would make every pair a reference cycle,
        # left for the garbage collector instead of freed when the solve ends
        found = self._negation
        if found is None:
            found = self._negation = Term(self.package, self.versions, not self.positive)
        return found

    def intersect(self, other: Term) -> Term:
        """The term satisfied exactly when both are (same package); memoized on
        ``self`` by ``other``'s serial number (no reference to ``other`` is kept, so
        two terms that met do not form a cycle for the garbage collector)."""
        memo = self._and
        if memo is None:
            memo = self._and = {}
        else:
            hit = memo.get(other._serial)
            if hit is not None:
                return hit
        a, b = self.versions, other.versions
        if self.positive and other.positive:
            found = Term(self.package, a & b, True)
        elif self.positive:
            found = Term(self.package, a.difference(b), True)
        elif other.positive:
            found = Term(self.package, b.difference(a), True)
        else:
            found = Term(self.package, a | b, False)
        memo[other._serial] = found
        return found

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


def _relation(term: Term, known: Term) -> Relation:
    """Memoized on ``term``: propagation asks the same question for every
    incompatibility of a package, and mostly about the same known term as last
    time (one identity test). Earlier known terms come back after a backjump and
    are found by serial number (which, unlike an id, needs no reference kept)."""
    if term._related is known:
        return term._relation  # type: ignore[return-value]
    memo = term._relations
    if memo is None:
        memo = term._relations = {}
    else:
        hit = memo.get(known._serial)
        if hit is not None:
            term._related, term._relation = known, hit
            return hit
    # satisfied_by() and intersect().is_empty spelled out on the version sets: most
    # questions are new (cold), and this skips building the intersected Term, and
    # for two negative terms the union (a negative term is never empty)
    a, b = term.versions, known.versions
    single = b._single
    if single is not None and known.positive:
        # a decision: membership of its one version decides, never inconclusive
        found = Relation.SATISFIED if a.contains(single) is term.positive else Relation.CONTRADICTED
    elif (a._full or b._full) and a._cuts is not None and b._cuts is not None:
        found = _with_full(term.positive, a, known.positive, b)
    elif known.positive:
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
    memo[known._serial] = found
    term._related, term._relation = known, found
    return found


def _with_full(positive: bool, a: VersionSet, known_positive: bool, b: VersionSet) -> Relation:
    """:func:`_relation` when either set is every version: no set operation needed."""
    if a._full:
        if positive:  # "p is selected (any version)"
            if known_positive:
                return Relation.SATISFIED
            return Relation.CONTRADICTED if b._full else Relation.INCONCLUSIVE
        if known_positive:  # "p is not selected"
            return Relation.SATISFIED if b.is_empty else Relation.CONTRADICTED
        return Relation.SATISFIED if b._full else Relation.INCONCLUSIVE
    # b is full
    if known_positive:
        if positive:
            if a.is_empty:
                return Relation.CONTRADICTED
            return Relation.INCONCLUSIVE
        if a.is_empty:
            return Relation.SATISFIED
        return Relation.INCONCLUSIVE
    return Relation.CONTRADICTED if positive else Relation.SATISFIED


def clear_relation_cache() -> None:
    """Nothing left to clear: relations are memoized on the terms of one solve."""


def _describe(package: str, versions: VersionSet) -> str:
    text = str(versions)
    if text == "*":
        return package
    if " | " in text:
        return " | ".join(f"{package}{part}" for part in text.split(" | "))
    return f"{package}{text}"
