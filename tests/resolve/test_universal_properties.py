"""Property: a universal resolution installs consistently in every environment it covers.

On random small registries whose requirements carry markers, take the result of
``resolve_universal``; for each sample environment, walk the lock graph from the
root following only edges whose written marker holds there. Then: at most one
version per package, every requirement of every installed version that applies
in the environment is satisfied by the installed version, and its target is
installed. (This is what `sync` relies on.)
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ghostenv.resolve.solver import SolveFailure
from ghostenv.resolve.universal import Edge, RootSpec, UniversalResolution, resolve_universal
from tests.resolve.universal_registry import COMMON_MARKERS, Registry

NAMES = ["a", "b", "c", "d"]
VERSIONS = ["1.0", "2.0", "3.0"]
MARKERS = [
    *COMMON_MARKERS,
    "python_version >= '3.12' and sys_platform == 'darwin'",
]
ENVS = [
    {"python_full_version": py, "python_version": py[:4].rstrip("."), "sys_platform": plat}
    for py in ("3.10.2", "3.11.0", "3.12.1", "3.13.0")
    for plat in ("linux", "darwin", "win32")
]


@st.composite
def requirement(draw: st.DrawFn, exclude: str) -> str:
    name = draw(st.sampled_from([n for n in NAMES if n != exclude]))
    spec = draw(st.sampled_from(["", ">=2.0", "<2.0", "==1.0", "<3.0", ">=3.0"]))
    marker = draw(st.sampled_from(MARKERS))
    return f"{name}{spec}" + (f"; {marker}" if marker else "")


@st.composite
def registries(draw: st.DrawFn) -> tuple[Registry, list[str]]:
    packages: dict[str, dict[str, tuple[str, list[str]]]] = {}
    for name in NAMES:
        packages[name] = {}
        for version in VERSIONS:
            rp = draw(st.sampled_from(["", ">=3.9", ">=3.11", ">=3.12"]))
            requires = draw(st.lists(requirement(name), max_size=2))
            packages[name][version] = (rp, requires)
    roots = draw(st.lists(requirement(""), min_size=1, max_size=3))
    return Registry(packages), roots


def _holds(marker: str | None, env: dict[str, str]) -> bool:
    return marker is None or Marker(marker).evaluate(env)


def _install(result: UniversalResolution, env: dict[str, str]) -> dict[str, set[Version]]:
    by_name: dict[str, list[tuple[Version, tuple[Edge, ...]]]] = {}
    for package in result.packages:
        by_name.setdefault(package.name, []).append((package.version, package.dependencies))
    installed: dict[str, set[Version]] = {}
    todo = [e for e in result.root_dependencies if _holds(e.marker, env)]
    while todo:
        edge = todo.pop()
        candidates = by_name[edge.name]
        version = edge.version if edge.version is not None else candidates[0][0]
        seen = installed.setdefault(edge.name, set())
        if version in seen:
            continue
        seen.add(version)
        deps = next(d for v, d in candidates if v == version)
        todo.extend(e for e in deps if _holds(e.marker, env))
    return installed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registries())
def test_every_environment_gets_a_consistent_install(case: tuple[Registry, list[str]]) -> None:
    registry, roots = case
    root = RootSpec("proj", tuple(Requirement(r) for r in roots), {}, {})
    try:
        result = resolve_universal(registry, root, SpecifierSet(">=3.10"))
    except SolveFailure:
        return
    for env in ENVS:
        installed = _install(result, env)
        for name, versions in installed.items():
            assert len(versions) == 1, (env, name, versions)
        chosen = {name: next(iter(v)) for name, v in installed.items()}
        wanted = [Requirement(r) for r in roots]
        for name, version in chosen.items():
            rp, requires = registry.packages[name][str(version)]
            assert SpecifierSet(rp).contains(env["python_full_version"]), (env, name, version)
            wanted += [Requirement(r) for r in requires]
        for req in wanted:
            if req.marker is not None and not req.marker.evaluate(env):
                continue
            assert req.name in chosen, f"{req} applies in {env} but {req.name} is not installed"
            assert req.specifier.contains(chosen[req.name], prereleases=True), (env, req)
