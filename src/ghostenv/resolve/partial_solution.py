"""The partial solution: an ordered list of assignments grouped by decision level.

Decisions pick one version; derivations record a term forced by an
incompatibility (its cause), which conflict resolution walks back through.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import Version

from ghostenv.resolve.incompatibility import Incompatibility
from ghostenv.resolve.term import Relation, Term, _relation
from ghostenv.resolve.version_set import VersionSet

__all__ = ["Assignment", "PartialSolution"]


@dataclass(frozen=True, slots=True)
class Assignment:
    term: Term
    decision_level: int
    index: int
    cause: Incompatibility | None  # None for a decision

    @property
    def package(self) -> str:
        return self.term.package

    @property
    def is_decision(self) -> bool:
        return self.cause is None


class PartialSolution:
    def __init__(self) -> None:
        self.assignments: list[Assignment] = []
        self.decisions: dict[str, Version] = {}
        self._positive: dict[str, Term] = {}
        self._negative: dict[str, Term] = {}
        self.decision_level = 0
        self.attempted = 0

    def decide(self, package: str, version: Version) -> None:
        self.attempted += 1
        self.decision_level += 1
        self.decisions[package] = version
        self._assign(Term(package, VersionSet.singleton(version)), None)

    def derive(self, term: Term, cause: Incompatibility) -> None:
        self._assign(term, cause)

    def _assign(self, term: Term, cause: Incompatibility | None) -> None:
        self.assignments.append(Assignment(term, self.decision_level, len(self.assignments), cause))
        self._register(term)

    def _register(self, term: Term) -> None:
        name = term.package
        if name in self._positive:
            self._positive[name] = self._positive[name].intersect(term)
            return
        previous = self._negative.pop(name, None)
        combined = term if previous is None else previous.intersect(term)
        if combined.positive:
            self._positive[name] = combined
        else:
            self._negative[name] = combined

    def backtrack(self, level: int) -> None:
        """Drop every assignment above ``level`` (backjumping)."""
        kept = [a for a in self.assignments if a.decision_level <= level]
        old_decisions = self.decisions
        self.assignments = []
        self.decisions = {}
        self._positive = {}
        self._negative = {}
        self.decision_level = level
        for assignment in kept:
            self.assignments.append(assignment)
            if assignment.cause is None:  # a decision
                name = assignment.term.package
                self.decisions[name] = old_decisions[name]
            self._register(assignment.term)

    def known(self, package: str) -> Term | None:
        return self._positive.get(package) or self._negative.get(package)

    def relation(self, term: Term) -> Relation:
        package = term.package
        known = self._positive.get(package) or self._negative.get(package)
        if known is None:
            return Relation.INCONCLUSIVE
        return _relation(term, known)

    def satisfies(self, term: Term) -> bool:
        return self.relation(term) is Relation.SATISFIED

    def satisfier(self, term: Term) -> Assignment:
        """The earliest assignment after which ``term`` is satisfied."""
        accumulated: Term | None = None
        package = term.package
        for assignment in self.assignments:
            if assignment.term.package != package:  # not .package: a property call each
                continue
            accumulated = (
                assignment.term if accumulated is None else accumulated.intersect(assignment.term)
            )
            if term.satisfied_by(accumulated):
                return assignment
        msg = f"{term} is not satisfied by the partial solution"
        raise AssertionError(msg)

    def unsatisfied(self) -> list[Term]:
        """Positive derivations for packages that have no decision yet."""
        return [t for name, t in self._positive.items() if name not in self.decisions]
