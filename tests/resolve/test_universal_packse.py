"""The packse universal scenarios (mode ``lock`` in uv-reference.json) against uv's own locks.

One test per scenario, in memory from ``scenarios.json``: success or failure as
uv had it, and when uv wrote a lock, the same (name, version) packages, the
same per-package ``resolution-markers`` and the same top-level forks in the
same order.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from ghostenv.resolve.python import Options
from ghostenv.resolve.solver import SolveFailure
from ghostenv.resolve.universal import RootSpec, resolve_universal
from tests.resolve.test_packse import PACKSE, REFERENCE, SCENARIOS, ScenarioSource

LOCKS = PACKSE / "uv-locks"
NAMES = sorted(name for name, ref in REFERENCE.items() if ref.get("mode") == "lock")


def _expected(name: str) -> tuple[dict[tuple[str, str], list[str]], list[str]] | None:
    path = LOCKS / f"{name}.uv.lock"
    if not path.exists():
        return None
    lock = tomllib.loads(Path(path).read_text())
    packages = {
        (p["name"], p["version"]): p.get("resolution-markers", [])
        for p in lock["package"]
        if p["name"] != "project"
    }
    return packages, lock.get("resolution-markers", [])


@pytest.mark.skipif(not NAMES, reason="packse scenarios not present (/work/shared/packse)")
@pytest.mark.parametrize("name", NAMES)
def test_lock_scenario(name: str) -> None:
    scenario = SCENARIOS[name]
    reference = REFERENCE[name]
    root = RootSpec(
        name="project",
        dependencies=tuple(Requirement(r["requirement"]) for r in scenario["root"]["requires"]),
        optional={},
        groups={},
    )
    options = Options(
        prerelease="allow"
        if scenario["resolver_options"]["prereleases"]
        else "if-necessary-or-explicit"
    )
    requires_python = SpecifierSet(scenario["root"]["requires_python"] or ">=3.12")
    source = ScenarioSource(scenario)
    if reference["uv_exit"] != 0:
        with pytest.raises(SolveFailure):
            resolve_universal(source, root, requires_python, options)
        return
    result = resolve_universal(source, root, requires_python, options)
    expected = _expected(name)
    assert expected is not None, f"uv wrote no lock for {name}"
    packages, forks = expected
    got = {(p.name, str(p.version)): list(p.resolution_markers) for p in result.packages}
    assert got == packages
    assert list(result.forks) == forks
