"""PubGrub (ghostenv) next to resolvelib (pip's resolver) on the same in-memory registries.

Synthetic hard shapes: many versions with shifting constraints, the
boto3/botocore tight-pin shape, deep chains whose conflict sits far below the
decision that caused it (backjumping), and an unsatisfiable variant. Both
resolvers see the same data and the same "fewest candidates first" preference;
we count dependency look-ups (candidate versions examined) and wall time.
ghostenv's memo tables (version-set operations, relations) are cleared before
every repeat, so each timing is a cold solve, like resolvelib's.

    python benchmarks/resolve.py [--repeat 3] [--median]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.version import Version
from resolvelib import AbstractProvider, BaseReporter, Resolver
from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

from ghostenv.resolve.provider import InMemoryProvider
from ghostenv.resolve.solver import SolveFailure, solve
from ghostenv.resolve.term import clear_relation_cache
from ghostenv.resolve.version_set import VersionSet, clear_caches

Raw = dict[str, dict[Version, dict[str, str]]]


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
def run_ghostenv(case: Case) -> tuple[bool, int, dict[str, str]]:
    # every repeat starts cold: no memoized set operation carried over from the last one
    clear_caches()
    clear_relation_cache()
    registry = {
        name: {v: {d: VersionSet.parse(s) for d, s in deps.items()} for v, deps in versions.items()}
        for name, versions in case.registry.items()
    }
    provider = InMemoryProvider(registry)  # type: ignore[arg-type]
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


def run_resolvelib(case: Case) -> tuple[bool, int, dict[str, str]]:
    provider = RegistryProvider(case.registry)
    resolver: Resolver[Req, Cand, str] = Resolver(provider, BaseReporter())
    try:
        result = resolver.resolve(
            [(k, SpecifierSet(v)) for k, v in case.root.items()], max_rounds=100_000
        )
    except (ResolutionImpossible, ResolutionTooDeep):
        return False, provider.examined, {}
    return True, provider.examined, {k: str(v[1]) for k, v in result.mapping.items()}


def timed(
    fn: Callable[[Case], tuple[bool, int, dict[str, str]]],
    case: Case,
    repeat: int,
    stat: Callable[[list[float]], float] = min,
) -> tuple[float, bool, int, dict[str, str]]:
    times: list[float] = []
    outcome: tuple[bool, int, dict[str, str]] = (False, 0, {})
    for _ in range(repeat):
        start = time.perf_counter()
        outcome = fn(case)
        times.append(time.perf_counter() - start)
    return stat(times) * 1000, *outcome


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
    header = (
        f"{'case':28} {'ok':>5} {'ghostenv ms':>12} {'resolvelib ms':>14} {'time x':>7} "
        f"{'ghost cand':>10} {'rlib cand':>10} {'cand x':>7}"
    )
    print(header)
    for make in CASES:
        case = make()
        g_ms, g_ok, g_n, g_sol = timed(run_ghostenv, case, args.repeat, stat)
        r_ms, r_ok, r_n, r_sol = timed(run_resolvelib, case, args.repeat, stat)
        agree = "yes" if g_ok == r_ok and (not g_ok or g_sol == r_sol) else "diff"
        ok = ("sat" if g_ok else "unsat") if agree == "yes" else "DIFF"
        print(
            f"{case.name:28} {ok:>5} {g_ms:12.1f} {r_ms:14.1f} {r_ms / g_ms:7.1f} "
            f"{g_n:10d} {r_n:10d} {r_n / max(g_n, 1):7.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
