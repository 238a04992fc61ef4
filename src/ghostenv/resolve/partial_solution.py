"""The partial solution: an ordered list of assignments grouped by decision level.

Decisions pick one version; derivations record a term forced by an
incompatibility (its cause), which conflict resolution walks back through.
"""

from __future__ import annotations

from packaging.version import Version

from ghostenv.resolve.incompatibility import Incompatibility
from ghostenv.resolve.term import Relation, Term, _relation
from ghostenv.resolve.version_set import VersionSet

__all__ = ["Assignment", "PartialSolution"]


class Assignment:
    """One decision or derivation, with what was known about its package after it.

    ``accumulated`` (the intersection of every term about the package up to and
    including this one) makes a backjump a truncation, with no intersection
    recomputed, and lets :meth:`PartialSolution.satisfier` test each assignment
    directly. A slotted class rather than a frozen dataclass: one is made per
    decision and derivation.
    """

    __slots__ = ("accumulated", "cause", "decision_level", "index", "term")

    term: Term
    decision_level: int
    index: int
    cause: Incompatibility | None  # None for a decision
    accumulated: Term

    def __init__(
        self,
        term: Term,
        decision_level: int,
        index: int,
        cause: Incompatibility | None,
        accumulated: Term,
    ) -> None:
        self.term = term
        self.decision_level = decision_level
        self.index = index
        self.cause = cause
        self.accumulated = accumulated

    @property
    def package(self) -> str:
        return self.term.package

    @property
    def is_decision(self) -> bool:
        return self.cause is None


class PartialSolution:
    def __init__(self) -> None:
        self.assignments: list[Assignment] = []
        self._names: list[str] = []  # assignments[i].term.package: searched at C speed
        self.decisions: dict[str, Version] = {}
        self._positive: dict[str, Term] = {}
        self._negative: dict[str, Term] = {}
        self._known: dict[str, Term] = {}  # either of the two above, for one lookup
        # (package, id(version)) -> (version, its decision term): the value keeps the id
        self._decision_terms: dict[tuple[str, int], tuple[Version, Term]] = {}
        self.decision_level = 0
        self.attempted = 0

    def decide(self, package: str, version: Version) -> None:
        self.attempted += 1
        self.decision_level += 1
        self.decisions[package] = version
        # the same term object each time a version is decided again after a backjump,
        # so what follows from it is found in the terms' memos instead of recomputed
        key = (package, id(version))
        hit = self._decision_terms.get(key)
        if hit is None:
            hit = self._decision_terms[key] = (
                version,
                Term(package, VersionSet.singleton(version)),
            )
        self._assign(hit[1], None)

    def derive(self, term: Term, cause: Incompatibility) -> None:
        self._assign(term, cause)

    def _assign(self, term: Term, cause: Incompatibility | None) -> None:
        name = term.package
        positive = self._positive
        previous = positive.get(name)
        if previous is not None:
            combined = positive[name] = previous.intersect(term)
        else:
            previous = self._negative.pop(name, None)
            combined = term if previous is None else previous.intersect(term)
            if combined.positive:
                positive[name] = combined
            else:
                self._negative[name] = combined
        self._known[name] = combined
        assignments = self.assignments
        assignments.append(Assignment(term, self.decision_level, len(assignments), cause, combined))
        self._names.append(name)

    def backtrack(self, level: int) -> None:
        """Drop every assignment above ``level`` (backjumping).

        Levels never decrease along the list, so what stays is a prefix; what is
        known about each package is the ``accumulated`` term of its last kept
        assignment (once positive, a package's term stays positive).
        """
        assignments = self.assignments
        keep = len(assignments)
        while keep and assignments[keep - 1].decision_level > level:
            keep -= 1
        del assignments[keep:]
        del self._names[keep:]
        old_decisions = self.decisions
        decisions: dict[str, Version] = {}
        positive: dict[str, Term] = {}
        negative: dict[str, Term] = {}
        known: dict[str, Term] = {}
        for assignment in assignments:
            name = assignment.term.package
            accumulated = known[name] = assignment.accumulated
            if accumulated.positive:
                positive[name] = accumulated
                negative.pop(name, None)
            else:
                negative[name] = accumulated
            if assignment.cause is None:  # a decision
                decisions[name] = old_decisions[name]
        self.decisions = decisions
        self._positive = positive
        self._negative = negative
        self._known = known
        self.decision_level = level

    def known(self, package: str) -> Term | None:
        return self._known.get(package)

    def relation(self, term: Term) -> Relation:
        known = self._known.get(term.package)
        if known is None:
            return Relation.INCONCLUSIVE
        return _relation(term, known)

    def satisfies(self, term: Term) -> bool:
        return self.relation(term) is Relation.SATISFIED

    def satisfier(self, term: Term) -> Assignment:
        """The earliest assignment after which ``term`` is satisfied."""
        package = term.package
        names, assignments = self._names, self.assignments
        at = -1
        try:
            while True:
                at = names.index(package, at + 1)  # the package's next assignment
                if term.satisfied_by(assignments[at].accumulated):
                    return assignments[at]
        except ValueError:
            msg = f"{term} is not satisfied by the partial solution"
            raise AssertionError(msg) from None

    def unsatisfied(self) -> list[Term]:
        """Positive derivations for packages that have no decision yet."""
        decisions = self.decisions
        return [t for name, t in self._positive.items() if name not in decisions]
