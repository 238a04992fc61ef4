"""Incompatibilities: sets of terms that must not all be true, with their cause.

The cause is a closed set (solver.md): the root requirement, a package with no
versions in a range, a dependency, a conflict-derived fact, or an unavailable
version (with the reason kept for the report).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from ghostenv.resolve.term import Term

__all__ = [
    "ROOT",
    "Cause",
    "DependencyCause",
    "DerivedCause",
    "Incompatibility",
    "NoVersionsCause",
    "RootCause",
    "UnavailableCause",
]

ROOT = "<root>"
"""The virtual package whose single version depends on the user's requirements."""


@dataclass(frozen=True, slots=True)
class RootCause:
    pass


@dataclass(frozen=True, slots=True)
class NoVersionsCause:
    pass


@dataclass(frozen=True, slots=True)
class DependencyCause:
    pass


@dataclass(frozen=True, slots=True)
class UnavailableCause:
    reason: str


@dataclass(frozen=True, slots=True)
class DerivedCause:
    conflict: Incompatibility
    other: Incompatibility


Cause = RootCause | NoVersionsCause | DependencyCause | UnavailableCause | DerivedCause

_ids = itertools.count()


class Incompatibility:
    """Terms that cannot all hold; one term per package (merged by :meth:`build`).

    A slotted class, not a frozen dataclass, for the same reason as
    :class:`~ghostenv.resolve.term.Term`: the solver creates one per dependency.
    Identity is equality; ``id`` numbers them in creation order.
    """

    __slots__ = ("cause", "id", "terms")

    terms: tuple[Term, ...]
    cause: Cause
    id: int

    def __init__(self, terms: tuple[Term, ...], cause: Cause, id: int | None = None) -> None:
        self.terms = terms
        self.cause = cause
        self.id = next(_ids) if id is None else id

    def __repr__(self) -> str:
        return f"Incompatibility({self.terms!r}, {self.cause!r}, id={self.id})"

    @classmethod
    def build(cls, terms: Iterable[Term], cause: Cause) -> Incompatibility:
        merged: dict[str, Term] = {}
        for term in terms:
            previous = merged.get(term.package)
            merged[term.package] = term if previous is None else previous.intersect(term)
        items = [t for t in merged.values() if not t.is_any]
        if isinstance(cause, DerivedCause) and len(items) > 1:
            # "root is selected" is always true; keeping it adds noise to the report.
            items = [t for t in items if not (t.positive and t.package == ROOT)]
        return cls(tuple(items), cause)

    def term(self, package: str) -> Term | None:
        for term in self.terms:
            if term.package == package:
                return term
        return None

    @property
    def is_failure(self) -> bool:
        """No terms, or only "root is selected": the whole problem has no solution."""
        return not self.terms or (
            len(self.terms) == 1 and self.terms[0].package == ROOT and self.terms[0].positive
        )

    def __str__(self) -> str:
        from ghostenv.resolve.report import describe

        return describe(self)
