"""PubGrub (ghostenv) next to resolvelib (pip's resolver) on the same in-memory registries.

Synthetic hard shapes: many versions with shifting constraints, the
boto3/botocore tight-pin shape, deep chains whose conflict sits far below the
decision that caused it (backjumping), and an unsatisfiable variant. Both
resolvers see the same data and the same "fewest candidates first" preference;
we count dependency look-ups (candidate versions examined) and wall time.

Fair in both directions: each provider keeps the registry's requirement text
and parses a candidate's requirements when they are asked for (resolvelib into
SpecifierSets, ghostenv into version sets), so both parse exactly what they
examine; ghostenv's memo tables (parses, version-set operations) are cleared
before every solve, so each timing is of cold solves, like resolvelib's. The
repeats of the two run interleaved (alternating which goes first) after one
untimed warm-up run each, with a garbage collection before every timed sample
(a sample of a millisecond case solves it repeatedly for ~20 ms, the same number
of times for both), and the table shows the median (or best) wall time and the
CPU time per solve.

A case is *backtracking-heavy* when resolvelib backtracks on it at least
``HEAVY`` times (counted in an extra, untimed run with a counting reporter);
the issue's target is at least 10x fewer candidates examined on those, and
never slower anywhere.

    python benchmarks/resolve.py [--repeat 3] [--median]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.version import Version
from resolvelib import AbstractProvider, BaseReporter, Resolver
from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

from ghostenv.resolve.provider import Dependencies, InMemoryProvider
from ghostenv.resolve.solver import SolveFailure, solve
from ghostenv.resolve.term import clear_relation_cache
from ghostenv.resolve.version_set import VersionSet, clear_caches

Raw = dict[str, dict[Version, dict[str, str]]]
HEAVY = 10  # resolvelib backtracks from which a case counts as backtracking-heavy


@dataclass(frozen=True)
class Case:
    name: str
    registry: Raw
    root: dict[str, str]


def shifting(n: int = 60) -> Case:
    """a_i needs c==i, b_j needs c==j-40: only a<20 with b=a+40 works."""
    reg: Raw = {"a": {}, "b": {}, "c": {}}
    for i in range(n):
        reg["a"][Version(str(i))] = {"c": f"=={i}"}
        reg["b"][Version(str(i))] = {"c": f"=={i - 40}"} if i >= 40 else {"c": "==999"}
        reg["c"][Version(str(i))] = {}
    return Case("shifting constraints", reg, {"a": "", "b": ""})


def boto(n: int = 300, old: int = 20) -> Case:
    """boto3 1.i pins botocore==1.i; s3fs needs botocore<1.old (the aiobotocore shape)."""
    reg: Raw = {"boto3": {}, "botocore": {}, "s3fs": {Version("1"): {"botocore": f"<1.{old}"}}}
    for i in range(n):
        reg["boto3"][Version(f"1.{i}")] = {"botocore": f"==1.{i}", "jmespath": ""}
        reg["botocore"][Version(f"1.{i}")] = {"jmespath": ""}
    reg["jmespath"] = {Version("1"): {}}
    return Case("boto3/botocore pins", reg, {"boto3": "", "s3fs": ""})


def deep_chain(depth: int = 8, width: int = 4, satisfiable: bool = True) -> Case:
    """x's newest version needs z==1, but the chain p1..pD always ends in z==2.

    The clash surfaces only after every pK is decided; the cause is x.
    """
    reg: Raw = {"z": {Version("1"): {}, Version("2"): {}}}
    reg["x"] = {Version("2"): {"z": "==1", "p1": ""}}
    if satisfiable:
        reg["x"][Version("1")] = {"z": "==2", "p1": ""}
    for k in range(1, depth + 1):
        nxt = {f"p{k + 1}": ""} if k < depth else {"z": "==2"}
        reg[f"p{k}"] = {Version(str(v)): dict(nxt) for v in range(1, width + 1)}
    name = "deep chain, backjump" if satisfiable else "deep chain, unsatisfiable"
    return Case(name, reg, {"p1": "", "x": ""})


def wide_conflict(n: int = 12, versions: int = 6) -> Case:
    """Many independent packages, then one late package that conflicts with the first."""
    reg: Raw = {}
    root = {}
    for k in range(n):
        reg[f"m{k}"] = {Version(str(v)): {} for v in range(versions)}
        root[f"m{k}"] = ""
    reg["m0"] = {Version(str(v)): {"late": f"=={v}"} for v in range(versions)}
    reg["late"] = {Version(str(v)): {"m0": "==0"} for v in range(versions)}
    return Case("late conflict with first", reg, root)


CASES: list[Callable[[], Case]] = [
    shifting,
    boto,
    deep_chain,
    lambda: deep_chain(satisfiable=False),
    wide_conflict,
]


# -- ghostenv ---------------------------------------------------------------
class TextProvider(InMemoryProvider):
    """The in-memory provider over requirement text, parsed when a version's
    dependencies are asked for (as resolvelib's provider below does)."""

    def dependencies(self, package: str, version: Version) -> Dependencies:
        self.examined += 1
        raw: dict[str, str] = self.registry[package][version]  # type: ignore[assignment]
        return {name: VersionSet.parse(text) for name, text in raw.items()}


def run_ghostenv(case: Case) -> tuple[bool, int, dict[str, str]]:
    # every repeat starts cold: no memoized parse or set operation carried over
    clear_caches()
    clear_relation_cache()  # (nothing left to clear since relations live on terms)
    provider = TextProvider(case.registry)  # type: ignore[arg-type]
    try:
        result = solve(provider, {k: VersionSet.parse(v) for k, v in case.root.items()})
    except SolveFailure:
        return False, provider.examined, {}
    return True, provider.examined, {k: str(v) for k, v in result.packages.items()}


# -- resolvelib ---------------------------------------------------------------
Req = tuple[str, SpecifierSet]
Cand = tuple[str, Version]


class RegistryProvider(AbstractProvider[Req, Cand, str]):
    def __init__(self, registry: Raw) -> None:
        self.registry = registry
        self.examined = 0

    def identify(self, requirement_or_candidate: Req | Cand) -> str:
        return requirement_or_candidate[0]

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Cand],
        candidates: Mapping[str, Iterator[Cand]],
        information: Mapping[str, Iterator[object]],
        backtrack_causes: Sequence[object],
    ) -> int:
        return sum(1 for _ in candidates[identifier])

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Cand]],
    ) -> list[Cand]:
        specs = [r[1] for r in requirements[identifier]]
        bad = {c[1] for c in incompatibilities[identifier]}
        versions = sorted(self.registry.get(identifier, {}), reverse=True)
        return [
            (identifier, v)
            for v in versions
            if v not in bad and all(s.contains(v, prereleases=True) for s in specs)
        ]

    def is_satisfied_by(self, requirement: Req, candidate: Cand) -> bool:
        return requirement[1].contains(candidate[1], prereleases=True)

    def get_dependencies(self, candidate: Cand) -> Iterable[Req]:
        self.examined += 1
        deps = self.registry[candidate[0]][candidate[1]]
        return [(d, SpecifierSet(s)) for d, s in deps.items()]


class CountingReporter(BaseReporter[Req, Cand, str]):
    def __init__(self) -> None:
        self.backtracks = 0

    def resolving_conflicts(self, causes: object) -> None:
        self.backtracks += 1


def run_resolvelib(
    case: Case, reporter: BaseReporter[Req, Cand, str] | None = None
) -> tuple[bool, int, dict[str, str]]:
    provider = RegistryProvider(case.registry)
    resolver: Resolver[Req, Cand, str] = Resolver(provider, reporter or BaseReporter())
    try:
        result = resolver.resolve(
            [(k, SpecifierSet(v)) for k, v in case.root.items()], max_rounds=100_000
        )
    except (ResolutionImpossible, ResolutionTooDeep):
        return False, provider.examined, {}
    return True, provider.examined, {k: str(v[1]) for k, v in result.mapping.items()}


Runner = Callable[[Case], tuple[bool, int, dict[str, str]]]


SAMPLE = 0.02  # seconds: a timed sample of a fast case repeats the solve to last this long


def timed_pair(
    case: Case, repeat: int, stat: Callable[[list[float]], float]
) -> list[tuple[float, float, bool, int, dict[str, str]]]:
    """Both contenders, ``repeat`` samples each, interleaved: (wall ms, cpu ms, outcome...)
    per solve. A case solved in about a millisecond is solved ``inner`` times per
    sample (the same count for both, from the slower one's warm-up), so one
    scheduler hiccup on a loaded machine does not decide the sample."""
    runners: list[Runner] = [run_ghostenv, run_resolvelib]
    walls: list[list[float]] = [[], []]
    cpus: list[list[float]] = [[], []]
    outcomes: list[tuple[bool, int, dict[str, str]]] = [(False, 0, {}), (False, 0, {})]
    warm = []
    for which in (0, 1):  # warm-up, untimed: imports, first-call caches, allocator
        start = time.perf_counter()
        runners[which](case)
        warm.append(time.perf_counter() - start)
    inner = max(1, int(SAMPLE / max(warm)))
    for i in range(repeat):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            run = runners[which]
            gc.collect()  # neither run pays for the garbage of the one before
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(inner):
                outcomes[which] = run(case)
            walls[which].append((time.perf_counter() - wall) / inner)
            cpus[which].append((time.process_time() - cpu) / inner)
    return [(stat(walls[k]) * 1000, stat(cpus[k]) * 1000, *outcomes[k]) for k in range(2)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--median",
        action="store_true",
        help="report the median of the repeats instead of the best (on a shared machine)",
    )
    args = parser.parse_args()
    stat: Callable[[list[float]], float] = statistics.median if args.median else min
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{'median' if args.median else 'best'} of {args.repeat}, load average {load}")
    header = (
        f"{'case':28} {'ok':>5} {'ghostenv ms':>12} {'resolvelib ms':>14} {'time x':>7} "
        f"{'g cpu':>7} {'r cpu':>8} {'ghost cand':>10} {'rlib cand':>10} {'cand x':>7} "
        f"{'rlib bt':>8}"
    )
    print(header)
    slower: list[str] = []
    heavy: list[tuple[str, float]] = []
    for make in CASES:
        case = make()
        ghost, rlib = timed_pair(case, args.repeat, stat)
        g_ms, g_cpu, g_ok, g_n, g_sol = ghost
        r_ms, r_cpu, r_ok, r_n, r_sol = rlib
        counter = CountingReporter()
        run_resolvelib(case, counter)
        agree = "yes" if g_ok == r_ok and (not g_ok or g_sol == r_sol) else "diff"
        ok = ("sat" if g_ok else "unsat") if agree == "yes" else "DIFF"
        ratio = r_n / max(g_n, 1)
        mark = "*" if counter.backtracks >= HEAVY else ""
        print(
            f"{case.name:28} {ok:>5} {g_ms:12.1f} {r_ms:14.1f} {r_ms / g_ms:7.1f} "
            f"{g_cpu:7.1f} {r_cpu:8.1f} {g_n:10d} {r_n:10d} {ratio:7.1f} "
            f"{counter.backtracks:7d}{mark or ' '}"
        )
        if g_ms >= r_ms:
            slower.append(case.name)
        if mark:
            heavy.append((case.name, ratio))
    print(f"* backtracking-heavy (resolvelib backtracks >= {HEAVY}); candidates examined, x fewer:")
    for name, ratio in heavy:
        print(f"  {name}: {ratio:.1f}x {'(target 10x met)' if ratio >= 10 else '(BELOW 10x)'}")
    print("never slower: " + ("yes" if not slower else "NO, slower on " + ", ".join(slower)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
