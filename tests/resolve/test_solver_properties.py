"""Solver invariants on random registries: sound, complete (brute force), deterministic."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.version import Version

from ghostenv.resolve.provider import InMemoryProvider
from ghostenv.resolve.solver import SolveFailure, solve
from ghostenv.resolve.version_set import VersionSet

Registry = dict[str, dict[Version, Mapping[str, VersionSet]]]
NAMES = ["a", "b", "c", "d", "e"]
SPECS = [">={}", "<{}", "=={}", "!={}"]


@st.composite
def registries(draw: st.DrawFn, max_versions: int = 3) -> tuple[Registry, dict[str, VersionSet]]:
    names = NAMES[: draw(st.integers(2, len(NAMES)))]
    registry: Registry = {}
    for i, name in enumerate(names):
        versions: dict[Version, Mapping[str, VersionSet]] = {}
        for n in range(1, draw(st.integers(1, max_versions)) + 1):
            deps: dict[str, VersionSet] = {}
            for other in names[i + 1 :] if draw(st.booleans()) else names:
                if other != name and draw(st.integers(0, 3)) == 0:
                    spec = draw(st.sampled_from(SPECS)).format(draw(st.integers(1, max_versions)))
                    deps[other] = VersionSet.parse(spec)
            versions[Version(str(n))] = deps
        registry[name] = versions
    root = {names[0]: VersionSet.parse(draw(st.sampled_from(["", ">=2", "<2", "==1"])))}
    if draw(st.booleans()):
        root[names[-1]] = VersionSet.parse(draw(st.sampled_from(["", ">=2", "<2"])))
    return registry, root


def check(
    registry: Registry, root: Mapping[str, VersionSet], chosen: Mapping[str, Version]
) -> bool:
    for name, versions in root.items():
        if name not in chosen or not versions.contains(chosen[name]):
            return False
    for name, version in chosen.items():
        if version not in registry.get(name, {}):
            return False
        for dep, versions in registry[name][version].items():
            if dep not in chosen or not versions.contains(chosen[dep]):
                return False
    return True


def brute_force(registry: Registry, root: Mapping[str, VersionSet]) -> bool:
    names = sorted(registry)
    options = [[None, *registry[n]] for n in names]
    for combo in itertools.product(*options):
        chosen = {n: v for n, v in zip(names, combo, strict=True) if v is not None}
        if check(registry, root, chosen):
            return True
    return False


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(registries())
def test_solution_is_valid_and_failure_is_real(
    case: tuple[Registry, dict[str, VersionSet]],
) -> None:
    registry, root = case
    try:
        result = solve(InMemoryProvider(registry), root)
    except SolveFailure:
        assert not brute_force(registry, root)
    else:
        assert check(registry, root, result.packages)


@settings(max_examples=50, deadline=None)
@given(registries(max_versions=6))
def test_deterministic(case: tuple[Registry, dict[str, VersionSet]]) -> None:
    registry, root = case
    outcomes = []
    for _ in range(3):
        try:
            outcomes.append(solve(InMemoryProvider(registry), root).packages)
        except SolveFailure as failure:
            outcomes.append({"failure": str(failure)})  # type: ignore[dict-item]
    assert outcomes[0] == outcomes[1] == outcomes[2]
