"""Explain a failed resolution as numbered English, root cause first.

The derivation tree of the final incompatibility is walked depth first (the
shape of pub's and pubgrub-rs's reporters): external facts are quoted, derived
facts become sentences "Because X and Y, Z.", and a derived fact used more than
once is explained once, numbered, and referred to by its number afterwards
instead of repeating the whole subtree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from ghostenv.resolve.incompatibility import (
    ROOT,
    DependencyCause,
    DerivedCause,
    Incompatibility,
    NoVersionsCause,
    RootCause,
    UnavailableCause,
)
from ghostenv.resolve.term import Term

__all__ = ["describe", "explain", "externals"]


def _positive(term: Term) -> str:
    return "you" if term.package == ROOT else str(term)


def describe(incompatibility: Incompatibility) -> str:
    """One incompatibility as a clause ("a==1.0 depends on b>=2")."""
    cause = incompatibility.cause
    terms = incompatibility.terms
    if isinstance(cause, RootCause):
        return "you are resolving this project"
    if isinstance(cause, NoVersionsCause):
        return f"there is no version of {terms[0]}"
    if isinstance(cause, UnavailableCause):
        if terms[0].package == ROOT:
            return f"you {cause.reason.replace('has ', 'have ', 1)}"
        return f"{terms[0]} {cause.reason}"
    if isinstance(cause, DependencyCause):
        depender, dependee = terms if terms[0].positive else terms[::-1]
        if depender.package == ROOT:
            return f"you require {dependee.negate()}"
        return f"{depender} depends on {dependee.negate()}"
    if incompatibility.is_failure:
        return "your requirements are unsatisfiable"
    positive = [t for t in terms if t.positive and t.package != ROOT]
    negative = [t.negate() for t in terms if not t.positive]
    root = any(t.positive and t.package == ROOT for t in terms)
    if root and not positive:
        return f"you require {' or '.join(map(str, negative))}"
    if not negative:
        if len(positive) == 1:
            return f"{positive[0]} cannot be used"
        return f"{' and '.join(map(str, positive))} are incompatible"
    if not positive:
        if len(negative) == 1:
            return f"{negative[0]} is required"
        return f"either {' or '.join(map(str, negative))} is required"
    verb = "requires" if len(positive) == 1 else "require"
    return f"{' and '.join(map(str, positive))} {verb} {' or '.join(map(str, negative))}"


def externals(incompatibility: Incompatibility) -> Iterator[Incompatibility]:
    """Every external (non-derived) incompatibility in the tree, each once, in order."""
    seen: set[int] = set()
    stack = [incompatibility]
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen.add(node.id)
        if isinstance(node.cause, DerivedCause):
            stack.extend((node.cause.other, node.cause.conflict))
        else:
            yield node


class _Reporter:
    def __init__(self, root: Incompatibility) -> None:
        self.uses: Counter[int] = Counter()
        self._count(root, set())
        self.lines: list[str] = []
        self.numbers: dict[int, int] = {}
        self.counter = 0

    def _count(self, node: Incompatibility, seen: set[int]) -> None:
        self.uses[node.id] += 1
        if node.id in seen or not isinstance(node.cause, DerivedCause):
            return
        seen.add(node.id)
        self._count(node.cause.conflict, seen)
        self._count(node.cause.other, seen)

    def shared(self, node: Incompatibility) -> bool:
        return self.uses[node.id] > 1

    def number_last(self) -> int:
        self.counter += 1
        self.lines[-1] += f" ({self.counter})"
        return self.counter

    def visit(self, node: Incompatibility) -> None:
        self._visit(node)
        if self.shared(node) and node.id not in self.numbers:
            self.numbers[node.id] = self.number_last()

    def _ref(self, node: Incompatibility) -> str:
        return f"{describe(node)} ({self.numbers[node.id]})"

    def _visit(self, node: Incompatibility) -> None:
        assert isinstance(node.cause, DerivedCause)
        first, second = node.cause.conflict, node.cause.other
        conclusion = describe(node)
        first_derived = isinstance(first.cause, DerivedCause)
        second_derived = isinstance(second.cause, DerivedCause)
        if not first_derived and not second_derived:
            self.lines.append(f"Because {describe(first)} and {describe(second)}, {conclusion}.")
        elif first_derived != second_derived:
            derived, external = (first, second) if first_derived else (second, first)
            self._one_each(derived, external, conclusion)
        else:
            self._both_derived(first, second, conclusion)

    def _one_each(
        self, derived: Incompatibility, external: Incompatibility, conclusion: str
    ) -> None:
        if derived.id in self.numbers:
            self.lines.append(
                f"Because {self._ref(derived)} and {describe(external)}, {conclusion}."
            )
            return
        assert isinstance(derived.cause, DerivedCause)
        inner = (derived.cause.conflict, derived.cause.other)
        kinds = [isinstance(x.cause, DerivedCause) for x in inner]
        if kinds.count(True) == 1 and not self.shared(derived):
            prior_derived = inner[kinds.index(True)]
            prior_external = inner[kinds.index(False)]
            self.visit(prior_derived)
            self.lines.append(
                f"And because {describe(prior_external)} and {describe(external)}, {conclusion}."
            )
            return
        self.visit(derived)
        self.lines.append(f"And because {describe(external)}, {conclusion}.")

    def _both_derived(
        self, first: Incompatibility, second: Incompatibility, conclusion: str
    ) -> None:
        n1, n2 = self.numbers.get(first.id), self.numbers.get(second.id)
        if n1 is not None and n2 is not None:
            self.lines.append(f"Because {self._ref(first)} and {self._ref(second)}, {conclusion}.")
            return
        if n1 is not None or n2 is not None:
            known, other = (first, second) if n1 is not None else (second, first)
            self.visit(other)
            self.lines.append(f"And because {self._ref(known)}, {conclusion}.")
            return
        self.visit(first)
        if first.id not in self.numbers:
            self.numbers[first.id] = self.number_last()
        self.lines.append("")
        self.visit(second)
        self.lines.append(f"And because {self._ref(first)}, {conclusion}.")


def explain(incompatibility: Incompatibility) -> str:
    """The numbered derivation of ``incompatibility`` (normally the final failure)."""
    if not isinstance(incompatibility.cause, DerivedCause):
        return f"Because {describe(incompatibility)}, your requirements are unsatisfiable."
    reporter = _Reporter(incompatibility)
    reporter.visit(incompatibility)
    return "\n".join(reporter.lines)
