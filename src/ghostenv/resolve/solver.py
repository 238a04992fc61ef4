"""PubGrub version solving (dart pub's doc/solver.md), pure and deterministic.

Main loop: unit propagation derives every term the incompatibilities force;
when nothing more follows, decision making picks a version of the package with
the highest priority. A satisfied incompatibility is a conflict: conflict
resolution walks back through the causes of its satisfiers, learning a new
derived incompatibility, and backjumps to the level where that one becomes
almost satisfied. Reaching an incompatibility that says "root cannot be
selected" means there is no solution, and its derivation tree is the report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.version import Version

from ghostenv.errors import ResolutionError
from ghostenv.resolve.incompatibility import (
    ROOT,
    DependencyCause,
    DerivedCause,
    Incompatibility,
    NoVersionsCause,
    RootCause,
    UnavailableCause,
)
from ghostenv.resolve.partial_solution import PartialSolution
from ghostenv.resolve.provider import Provider, Unavailable
from ghostenv.resolve.term import Relation, Term, _relation
from ghostenv.resolve.version_set import VersionSet

__all__ = ["Resolution", "SolveFailure", "solve"]

_ROOT_VERSION = Version("0")
_CONTRADICTED = Relation.CONTRADICTED
_DEPENDENCY = DependencyCause()  # causes carry no data: one shared instance
_INCONCLUSIVE = Relation.INCONCLUSIVE


class SolveFailure(ResolutionError):
    """No solution exists; ``incompatibility`` is the root of the derivation tree."""

    def __init__(self, incompatibility: Incompatibility) -> None:
        from ghostenv.resolve.report import explain

        self.incompatibility = incompatibility
        super().__init__(explain(incompatibility))


@dataclass(frozen=True, slots=True)
class Resolution:
    packages: dict[str, Version]
    decisions: int
    examined: int


class _Conflict(Exception):
    pass


class Solver:
    def __init__(self, provider: Provider, requirements: Mapping[str, VersionSet]) -> None:
        self.provider = provider
        self.requirements = dict(requirements)
        self.solution = PartialSolution()
        self.incompatibilities: dict[str, list[Incompatibility]] = defaultdict(list)
        self.examined = 0
        # incompatibility id -> decision level at which it was seen contradicted. Knowledge
        # only grows until a backjump, so it stays contradicted until we go below that level.
        self._contradicted: dict[int, int] = {}
        self._known_dependencies: set[tuple[str, Version]] = set()
        # (depender package, dependee term) -> the one dependency clause stating it
        self._dependency_clauses: dict[tuple[str, Term], Incompatibility] = {}
        # (package, id(versions)) -> (versions, "not package in versions"), see _dependee
        self._dependees: dict[tuple[str, int], tuple[VersionSet, Term]] = {}
        # package -> {version: (the known version below it, the one above it)}
        self._neighbours: dict[str, dict[Version, tuple[Version | None, Version | None]]] = {}
        self._pure_priority = bool(getattr(provider, "priority_is_pure", False))

    def solve(self) -> Resolution:
        root = Term(ROOT, VersionSet.singleton(_ROOT_VERSION), positive=False)
        self._add(Incompatibility.build([root], RootCause()))
        self.provider.prefetch(sorted(self.requirements.items()))
        next_package: str | None = ROOT
        while next_package is not None:
            self._propagate(next_package)
            next_package = self._decide()
        packages = {n: v for n, v in self.solution.decisions.items() if n != ROOT}
        return Resolution(dict(sorted(packages.items())), self.solution.attempted, self.examined)

    def _add(self, incompatibility: Incompatibility) -> None:
        incompatibility = self._merge_dependency(incompatibility)
        for term in incompatibility.terms:
            self.incompatibilities[term.package].append(incompatibility)

    def _merge_dependency(self, new: Incompatibility) -> Incompatibility:
        """Fold "a in R1 depends on d in S" into an existing "a in R2 depends on d in S".

        One clause over R1 | R2 says the same as both and lets conflict resolution
        rule out a whole run of versions sharing a dependency at once; the report
        then reads "a>=2 depends on d" instead of one line per version. The clauses
        that may merge are found by key (depender, dependee term), not by a scan.
        """
        kind = type(new.cause)
        if kind is not DependencyCause:
            if kind is UnavailableCause and len(new.terms) == 1:
                return self._merge_unavailable(new)
            return new
        if len(new.terms) != 2:
            return new
        depender, dependee = new.terms
        key = (depender.package, dependee)
        old = self._dependency_clauses.get(key)
        if old is not None:
            for term in old.terms:
                self.incompatibilities[term.package].remove(old)
            widened = Term(depender.package, depender.versions | old.terms[0].versions)
            new = (
                Incompatibility((widened, dependee), new.cause)
                if widened.package != dependee.package
                else Incompatibility.build([widened, dependee], new.cause)
            )
        self._dependency_clauses[key] = new
        return new

    def _merge_unavailable(self, new: Incompatibility) -> Incompatibility:
        """Versions unusable for the same reason become one fact over their union."""
        (term,) = new.terms
        for old in self.incompatibilities[term.package]:
            if old.cause == new.cause and len(old.terms) == 1 and old.terms[0].positive:
                self.incompatibilities[term.package].remove(old)
                widened = Term(term.package, term.versions | old.terms[0].versions)
                return Incompatibility.build([widened], new.cause)
        return new

    # -- unit propagation -------------------------------------------------
    def _propagate(self, package: str) -> None:
        """Unit propagation from ``package`` outwards.

        The hot loop of the solver, so :meth:`_propagate_one` is inlined here and
        the relation memoized on the term (to the known term it was last asked
        about) is read before calling into it: a benchmark solve asks a few hundred
        of these questions and most are hits.
        """
        changed = [package]
        solution = self.solution
        incompatibilities = self.incompatibilities
        contradicted = self._contradicted
        was_contradicted = contradicted.get
        while changed:
            current = changed.pop()
            level = solution.decision_level
            known_term = solution._known.get
            for incompatibility in reversed(incompatibilities[current]):
                seen = was_contradicted(incompatibility.id)
                if seen is not None and seen <= level:
                    continue
                unsatisfied: Term | None = None
                for term in incompatibility.terms:
                    known = known_term(term.package)
                    if known is None:
                        relation = _INCONCLUSIVE
                    elif term._related is known:
                        relation = term._relation  # type: ignore[assignment]
                    else:
                        relation = _relation(term, known)
                    if relation is _CONTRADICTED:
                        contradicted[incompatibility.id] = level
                        break
                    if relation is _INCONCLUSIVE:
                        if unsatisfied is not None:
                            break
                        unsatisfied = term
                else:
                    if unsatisfied is not None:
                        solution._assign(unsatisfied.negate(), incompatibility)  # derive
                        changed.append(unsatisfied.package)
                        continue
                    root_cause = self._resolve_conflict(incompatibility)
                    contradicted = self._contradicted
                    was_contradicted = contradicted.get
                    changed.clear()
                    derived = self._propagate_one(root_cause)
                    assert isinstance(derived, str), "learned clause must be almost satisfied"
                    changed.append(derived)
                    break

    def _propagate_one(self, incompatibility: Incompatibility) -> str | type[_Conflict] | None:
        """Derive the negation of the single unsatisfied term, if there is exactly one."""
        solution = self.solution
        level = self._contradicted.get(incompatibility.id)
        if level is not None and level <= solution.decision_level:
            return None
        known_terms = solution._known
        unsatisfied: Term | None = None
        for term in incompatibility.terms:
            known = known_terms.get(term.package)
            relation = _INCONCLUSIVE if known is None else _relation(term, known)
            if relation is _CONTRADICTED:
                self._contradicted[incompatibility.id] = solution.decision_level
                return None
            if relation is _INCONCLUSIVE:
                if unsatisfied is not None:
                    return None
                unsatisfied = term
        if unsatisfied is None:
            return _Conflict
        self.solution.derive(unsatisfied.negate(), incompatibility)
        return unsatisfied.package

    # -- conflict resolution ------------------------------------------------
    def _resolve_conflict(self, incompatibility: Incompatibility) -> Incompatibility:
        learned = False
        while not incompatibility.is_failure:
            recent_term: Term | None = None
            recent = None
            difference: Term | None = None
            previous_level = 0
            for term in incompatibility.terms:
                satisfier = self.solution.satisfier(term)
                if recent is None or satisfier.index > recent.index:
                    if recent is not None:
                        previous_level = max(previous_level, recent.decision_level)
                    recent_term, recent, difference = term, satisfier, None
                else:
                    previous_level = max(previous_level, satisfier.decision_level)
                if recent_term is term:
                    diff = recent.term.difference(term)
                    difference = None if diff.is_empty else diff
                    if difference is not None:
                        earlier = self.solution.satisfier(difference.negate())
                        previous_level = max(previous_level, earlier.decision_level)
            assert recent is not None
            assert recent_term is not None
            if previous_level < recent.decision_level or recent.cause is None:
                self.solution.backtrack(previous_level)
                self._contradicted = {
                    k: v for k, v in self._contradicted.items() if v <= previous_level
                }
                if learned:
                    self._add(incompatibility)
                return incompatibility
            terms = [t for t in incompatibility.terms if t is not recent_term]
            terms += [t for t in recent.cause.terms if t.package != recent.package]
            if difference is not None:
                terms.append(difference.negate())
            incompatibility = Incompatibility.build(
                terms, DerivedCause(incompatibility, recent.cause)
            )
            learned = True
        raise SolveFailure(incompatibility)

    # -- decision making ------------------------------------------------------
    def _decide(self) -> str | None:
        solution = self.solution
        decisions = solution.decisions
        pending = [t for name, t in solution._positive.items() if name not in decisions]
        if not pending:
            return None
        if len(pending) == 1:
            term = pending[0]  # nothing to compare: no priority asked
        elif ROOT not in solution.decisions and ROOT in solution._positive:
            term = solution._positive[ROOT]
        else:
            term = self._first_by_priority(pending)
        package = term.package
        if package == ROOT:
            version: Version | None = _ROOT_VERSION
        else:
            candidates = self.provider.candidates(package, term.versions)
            version = candidates[0] if candidates else None
        if version is None:
            self._add(Incompatibility.build([term], NoVersionsCause()))
            return package
        seen = (package, version)
        if seen in self._known_dependencies:
            # Seen before a backjump: its incompatibilities are still in place and
            # propagation already ruled it out if it conflicts. Don't ask twice.
            solution.decide(package, version)
            return package
        self._known_dependencies.add(seen)
        conflict = False
        for incompatibility in self._dependency_incompatibilities(package, version):
            self._add(incompatibility)
            if not conflict:
                # conflicting when every other term is already satisfied
                for t in incompatibility.terms:
                    if t.package != package and not solution.satisfies(t):
                        break
                else:
                    conflict = True
        if not conflict:
            solution.decide(package, version)
        return package

    def _first_by_priority(self, pending: list[Term]) -> Term:
        """``min(pending, key=self._priority_key)``, with the key kept on the term.

        Decision making compares every pending package each time; most pending terms
        are the same objects as at the last decision (nothing new was derived about
        them), so with a provider that declares ``priority_is_pure`` (its answer
        depends only on the package and the range) the answer is reused: the
        priority becomes incremental instead of O(pending) provider calls (the
        late-conflict shape compares a dozen pending packages at every decision).
        The term remembers which provider answered, so a term never carries one
        solver's priority into another's.
        """
        if not self._pure_priority:
            return min(pending, key=self._priority_key)
        provider = self.provider
        best = pending[0]
        best_key: tuple[tuple[int, ...], str] | None = None
        for term in pending:
            hit = term._priority
            if hit is not None and hit[0] is provider:
                key = hit[1]
            else:
                key = (provider.priority(term.package, term.versions), term.package)
                term._priority = (provider, key)
            if best_key is None or key < best_key:
                best, best_key = term, key
        return best

    def _priority_key(self, term: Term) -> tuple[tuple[int, ...], str]:
        return (self.provider.priority(term.package, term.versions), term.package)

    def _depender_range(self, package: str, version: Version) -> VersionSet:
        """The widest range around ``version`` holding no other known version.

        A dependency stated for that range is exactly as true as for the one
        version, and keeps "there is no version of a>1.0,<1.1" noise out of
        the learned clauses and the report (solver.md states dependencies over
        ranges for the same reason).
        """
        this = VersionSet.singleton(version)
        if package == ROOT:
            return this
        neighbours = self._neighbours.get(package)
        if neighbours is None:
            neighbours = self._neighbours[package] = _neighbours(
                self.provider.candidates(package, VersionSet.full())
            )
        around = neighbours.get(version)
        if around is None:
            return this
        # (prev, next) | this: ">prev,<next" around the version
        return VersionSet.between(*around) | this

    def _dependency_incompatibilities(
        self, package: str, version: Version
    ) -> list[Incompatibility]:
        if package == ROOT:
            dependencies: Mapping[str, VersionSet] | Unavailable = self.requirements
        else:
            self.examined += 1
            dependencies = self.provider.dependencies(package, version)
        if not dependencies:  # nothing to state: no depender range to compute
            self.provider.prefetch([])
            return []
        this = Term(package, self._depender_range(package, version))
        if not isinstance(dependencies, Unavailable) and any(
            versions.is_empty for versions in dependencies.values()
        ):
            # Contradictory requirements on one package ("b==1" and "b==2"): no version fits.
            empty = min(dep for dep, versions in dependencies.items() if versions.is_empty)
            dependencies = Unavailable(f"has conflicting requirements on {empty}")
        if isinstance(dependencies, Unavailable):
            return [Incompatibility.build([this], UnavailableCause(dependencies.reason))]
        ordered = sorted(dependencies.items())
        self.provider.prefetch(ordered)
        cause = _DEPENDENCY
        return [
            # built directly: two terms on two packages need no merging
            Incompatibility((this, self._dependee(dep, versions)), cause)
            if dep != package
            else Incompatibility.build([this, self._dependee(dep, versions)], cause)
            for dep, versions in ordered
        ]

    def _dependee(self, package: str, versions: VersionSet) -> Term:
        """The term "not ``package`` in ``versions``", one object per (package, set):
        the clauses of every version requiring the same thing share it, and with it
        what its memos learned about the partial solution."""
        key = (package, id(versions))
        hit = self._dependees.get(key)
        if hit is None:
            hit = self._dependees[key] = (versions, Term(package, versions, positive=False))
        return hit[1]


def _neighbours(
    candidates: Sequence[Version],
) -> dict[Version, tuple[Version | None, Version | None]]:
    """Each known version's neighbours in ascending order, looked up by the version
    (one hash instead of a bisection of Python-level comparisons per dependency
    look-up); equal spellings ("1.0", "1") share the first one's entry."""
    known = _ascending(candidates)
    last = len(known) - 1
    found: dict[Version, tuple[Version | None, Version | None]] = {}
    keep = found.setdefault
    for at, version in enumerate(known):
        keep(version, (known[at - 1] if at > 0 else None, known[at + 1] if at < last else None))
    return found


def _ascending(versions: Sequence[Version]) -> list[Version]:
    """``sorted(versions)``, comparing packaging's keys as tuples (no Python-level
    ``__lt__`` or key function per comparison); equal versions keep their order."""
    keyed = sorted([(v._key_cache or v._key, at) for at, v in enumerate(versions)])
    return [versions[at] for _, at in keyed]


def solve(provider: Provider, requirements: Mapping[str, VersionSet]) -> Resolution:
    """Find versions satisfying ``requirements``; raise :class:`SolveFailure` if none exist."""
    return Solver(provider, requirements).solve()
