"""Driving the solver fork by fork, the way uv's universal resolver does.

One PubGrub state starts with the whole marker space. When the provider
raises :class:`~ghostenv.resolve.universal_provider.Split`, the state is copied
into each part (decisions made so far are kept, as in uv) and the parts are
pushed on a stack ordered like uv's (higher Python floor, then more
upper-bounded dependencies, is solved first). A finished fork's versions become
preferences for the forks still to come, so the forks agree where they can.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from ghostenv.resolve.incompatibility import ROOT, Incompatibility, NoVersionsCause, RootCause
from ghostenv.resolve.markers import Interval, MarkerTree, parse_marker
from ghostenv.resolve.python import Options, Source
from ghostenv.resolve.solver import _ROOT_VERSION, SolveFailure, Solver
from ghostenv.resolve.term import Term
from ghostenv.resolve.universal_marker_ranges import specifier_ranges
from ghostenv.resolve.universal_provider import (
    VIRTUAL,
    Dep,
    Fork,
    ForkProvider,
    Shared,
    Split,
)
from ghostenv.resolve.version_set import VersionSet

__all__ = ["ForkResult", "Solved", "requires_python_interval", "root_packages", "solve_forks"]


@dataclass(slots=True)
class ForkResult:
    env: MarkerTree
    decisions: dict[str, Version]  # solver keys: name, name[extra], @virtual
    edges: dict[tuple[str, Version], list[Dep]]


@dataclass(slots=True)
class Solved:
    requires_python: Interval
    forks: list[ForkResult] = field(default_factory=list)


def requires_python_interval(spec: SpecifierSet) -> Interval:
    """The Python range a project's requires-python spans (``~=3.10.2`` = [3.10.2, 3.11))."""
    ranges = specifier_ranges(spec)
    if not ranges:
        return (None, None)
    return (ranges[0][0], ranges[-1][1])


def root_packages(root: Any) -> dict[str, Any]:
    """Virtual solver packages for the project: its dependencies, each extra, each group."""
    roots = {"@project": tuple(root.dependencies)}
    for extra in sorted(root.optional):
        roots[f"@extra:{canonicalize_name(extra)}"] = tuple(root.optional[extra])
    for group in sorted(root.groups):
        roots[f"@group:{canonicalize_name(group)}"] = tuple(root.groups[group])
    return roots


class _ForkSolver(Solver):
    """The solver, resumable after a split and able to decide a given package next."""

    _forced: tuple[str, Version | None] | None = None

    def __init__(self, provider: Any, requirements: Any) -> None:
        super().__init__(provider, requirements)
        self._culprits: dict[str, int] = {}
        self._affected: dict[str, int] = {}

    def run(self, fresh: bool, forced: tuple[str, Version | None] | None) -> dict[str, Version]:
        if fresh:
            root = Term(ROOT, VersionSet.singleton(_ROOT_VERSION), positive=False)
            self._add(Incompatibility.build([root], RootCause()))
            next_package: str | None = ROOT
        else:
            self._forced = forced
            next_package = self._decide()
        while next_package is not None:
            self._propagate(next_package)
            next_package = self._decide()
        return {n: v for n, v in self.solution.decisions.items() if n != ROOT}

    def _decide(self) -> str | None:
        """H1's decision step, plus: decide a given package first after a split, and
        uv's conflict tracking (a package rejected 5 times is decided earlier, the one
        that caused it later, undoing its decision)."""
        forced, self._forced = self._forced, None
        pending = self.solution.unsatisfied()
        if not pending:
            return None
        term = None
        if forced is not None:
            term = next((t for t in pending if t.package == forced[0]), None)
        if term is None:
            forced = None
            roots = [t for t in pending if t.package == ROOT]
            term = (
                roots[0]
                if roots
                else min(
                    pending,
                    key=lambda t: (self.provider.priority(t.package, t.versions), t.package),
                )
            )
        package = term.package
        version = forced[1] if forced is not None else None
        if package == ROOT:
            version = _ROOT_VERSION
        elif version is None or not term.versions.contains(version):
            candidates = self.provider.candidates(package, term.versions)
            if not candidates:
                self._add(Incompatibility.build([term], NoVersionsCause()))
                return package
            version = candidates[0]
        if (package, version) in self._known_dependencies:
            self.solution.decide(package, version)
            return package
        self._known_dependencies.add((package, version))
        conflicts = []
        for incompatibility in self._dependency_incompatibilities(package, version):
            self._add(incompatibility)
            if all(
                t.package == package or self.solution.satisfies(t) for t in incompatibility.terms
            ):
                conflicts.append(incompatibility)
        if not conflicts:
            self.solution.decide(package, version)
        else:
            self._track(package, conflicts)
        return package

    def _depender_range(self, package: str, version: Version) -> VersionSet:
        """One version, as uv states dependencies: a widened range would derive a
        dependency before its depender is decided, which changes uv's decision order."""
        return VersionSet.singleton(version)

    def _track(self, affected: str, conflicts: list[Incompatibility]) -> None:
        provider: Any = self.provider
        base = affected.split("[", 1)[0]
        real = False
        late: list[str] = []
        for incompatibility in conflicts:
            for t in incompatibility.terms:
                culprit = t.package
                if culprit in (affected, ROOT) or culprit.split("[", 1)[0] == base:
                    continue
                real = True
                self._culprits[culprit] = self._culprits.get(culprit, 0) + 1
                if self._culprits[culprit] == _CONFLICT_THRESHOLD:
                    late.append(culprit)
        if real:
            self._affected[affected] = self._affected.get(affected, 0) + 1
            if self._affected[affected] == _CONFLICT_THRESHOLD:
                provider.early.add(affected.split("[", 1)[0])
        for culprit in late:
            provider.late.add(culprit.split("[", 1)[0])
            level = next(
                (
                    a.decision_level
                    for a in self.solution.assignments
                    if a.is_decision and a.package == culprit
                ),
                None,
            )
            if level is not None and level > 0:
                self.solution.backtrack(level - 1)
                self._contradicted = {k: v for k, v in self._contradicted.items() if v < level}


_CONFLICT_THRESHOLD = 5


def _readable(message: str) -> str:
    """Name the project's virtual packages the way a person would."""
    message = message.replace(
        "you require @project==0 and @project==0 depends on", "your project depends on"
    )
    message = re.sub(
        r"you require @(extra|group):([\w.-]+)==0 and @\1:\2==0 depends on",
        r"your project's \1 '\2' depends on",
        message,
    )
    message = message.replace("you require @project==0 and @project==0", "your project")
    message = message.replace("@project==0", "your project")
    return re.sub(r"@(extra|group):([\w.-]+)==0", r"your project's \1 '\2'", message)


def _copy_state(obj: Any) -> Any:
    new = copy.copy(obj)
    for name, value in vars(obj).items():
        if isinstance(value, defaultdict):
            setattr(
                new,
                name,
                defaultdict(value.default_factory, {k: list(v) for k, v in value.items()}),
            )
        elif isinstance(value, (list, dict, set)):
            setattr(new, name, copy.copy(value))
    return new


def _clone(solver: _ForkSolver) -> _ForkSolver:
    new = _copy_state(solver)
    new.solution = _copy_state(solver.solution)
    return new  # type: ignore[no-any-return]


def _fork_order(fork: Fork, *, lowest: bool = False) -> tuple[Any, ...]:
    lower = fork.env.python_bounds()[0]
    bounded = sum(1 for dep in fork.deps if dep.bounded_above)
    floor: tuple[Any, ...] = (0,) if lower is None else (1, lower[0])
    if lowest:
        return (_Reversed(floor), bounded)
    return (floor, bounded)


class _Reversed:
    """Sort key wrapper ordering descending."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key

    def __lt__(self, other: _Reversed) -> bool:
        return bool(self.key > other.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.key == other.key

    __hash__ = None  # type: ignore[assignment]


@dataclass(slots=True)
class _Pending:
    solver: _ForkSolver | None
    env: MarkerTree
    edges: dict[tuple[str, Version], list[Dep]]
    forced: tuple[str, Version | None] | None = None
    forced_deps: list[Dep] | None = None
    order: dict[str, int] = field(default_factory=dict)


def solve_forks(
    source: Source,
    root: Any,
    requires_python: SpecifierSet,
    options: Options,
    *,
    forks: Sequence[str] = (),
    preferences: Sequence[tuple[str, Version, str | None]] = (),
) -> Solved:
    interval = requires_python_interval(requires_python)
    shared = Shared(
        source=source,
        options=options,
        requires_python=interval,
        rp_marker=MarkerTree.python_range(interval),
        roots=root_packages(root),
        root_name=canonicalize_name(root.name),
        direct=frozenset(
            canonicalize_name(r.name) for reqs in root_packages(root).values() for r in reqs
        ),
        pinned=frozenset(
            (canonicalize_name(r.name), Version(s.version))
            for reqs in root_packages(root).values()
            for r in reqs
            for s in r.specifier
            if s.operator in ("==", "===") and "*" not in s.version
        ),
    )
    requirements = {name: VersionSet.singleton(VIRTUAL) for name in shared.roots}
    for name, version, marker in preferences:
        shared.locked.setdefault(canonicalize_name(name), []).append(
            (parse_marker(marker), version)
        )
    solved = Solved(interval)
    # Seeded forks are solved in the order given (the stack pops the last pushed first).
    seeds = [parse_marker(text) for text in forks] or [MarkerTree.true()]
    stack = [_Pending(None, env, {}) for env in reversed(seeds)]
    while stack:
        pending = stack.pop()
        forced_deps = None
        if pending.forced is not None and pending.forced[1] is not None:
            forced_deps = (pending.forced[0], pending.forced[1], pending.forced_deps or [])
        provider = ForkProvider(shared, pending.env, pending.edges, forced_deps, pending.order)
        solver = pending.solver
        fresh = solver is None
        if solver is None:
            solver = _ForkSolver(provider, requirements)
        solver.provider = provider
        try:
            decisions = solver.run(fresh, pending.forced)
        except Split as split:
            # uv solves higher Python floors first; with "lowest", lower floors first.
            lowest = options.resolution == "lowest"
            for fork in sorted(split.forks, key=lambda f: _fork_order(f, lowest=lowest)):
                child = _clone(solver)
                child._known_dependencies.discard((split.package, split.candidate))
                stack.append(
                    _Pending(
                        child,
                        fork.env,
                        dict(provider.edges),
                        (split.package, split.version),
                        fork.deps,
                        dict(provider.order),
                    )
                )
            continue
        except SolveFailure as failure:
            failure.message = _readable(failure.message)
            failure.args = (failure.message,)
            if not pending.env.is_true:
                failure.message = (
                    "No solution found when resolving dependencies for split "
                    f"(markers: {pending.env}):\n{failure.message}"
                )
                failure.args = (failure.message,)
            raise
        solved.forks.append(ForkResult(pending.env, decisions, provider.edges))
        # uv skips these preferences when the mode treats direct and transitive differently.
        for key, version in decisions.items() if options.resolution != "lowest-direct" else ():
            if not key.startswith("@") and "[" not in key:
                shared.preferences.setdefault(key, []).append((pending.env, version))
    return solved
