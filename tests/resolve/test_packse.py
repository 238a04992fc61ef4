"""The packse scenarios (external oracle) against the Python layer, in memory.

Each non-universal scenario is one test: the source is built straight from
``scenarios.json`` and the target from how uv ran it (``uv-reference.json``):
install mode targets the scenario's interpreter, compile mode its
``--python-version``. Pass = success/failure as uv saw it and every expected pin
present. Where packse and uv disagree (uv's 2026 prerelease policy) uv wins.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from ghostenv.resolve.python import Candidate, Metadata, Options, Target, resolve
from ghostenv.resolve.solver import SolveFailure

PACKSE = Path("/work/shared/packse")
_MANYLINUX2014 = (
    *(f"manylinux_2_{m}_x86_64" for m in range(17, 4, -1)),
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
)


def _load() -> tuple[dict[str, Any], dict[str, Any]]:
    if not PACKSE.is_dir():
        return {}, {}
    scenarios = json.loads((PACKSE / "scenarios.json").read_text())["scenarios"]
    reference = json.loads((PACKSE / "uv-reference.json").read_text())
    return {s["name"]: s for s in scenarios}, reference


SCENARIOS, REFERENCE = _load()
NAMES = sorted(n for n, s in SCENARIOS.items() if not s["resolver_options"]["universal"])


class ScenarioSource:
    """A :class:`~ghostenv.resolve.python.Source` over one scenario's packages."""

    def __init__(self, scenario: dict[str, Any]) -> None:
        self.releases: dict[str, dict[Version, dict[str, Any]]] = {}
        for package in scenario["packages"]:
            name = canonicalize_name(package["name"])
            for release in package["versions"]:
                self.releases.setdefault(name, {})[Version(release["version"])] = release

    def versions(self, name: str) -> Sequence[Candidate]:
        result = []
        for version, release in self.releases.get(name, {}).items():
            tags = tuple(release["wheel_tags"]) or ("py3-none-any",)
            result.append(
                Candidate(
                    version=version,
                    requires_python=SpecifierSet(release["requires_python"] or ""),
                    wheel_tags=tags if release["wheel"] else (),
                    has_sdist=bool(release["sdist"]),
                    yanked=bool(release["yanked"]),
                )
            )
        return result

    def metadata(self, name: str, version: Version) -> Metadata:
        release = self.releases[name][version]
        requires = [Requirement(r) for r in release["requires"]]
        extras = release["extras"] or []
        for extra in extras:
            for text in extra["requires"]:
                requirement = Requirement(text)
                marker = f'extra == "{extra["name"]}"'
                if requirement.marker is not None:
                    marker = f"({requirement.marker}) and {marker}"
                requirement.marker = Requirement(f"x; {marker}").marker
                requires.append(requirement)
        return Metadata(tuple(requires), tuple(e["name"] for e in extras))


def _target(scenario: dict[str, Any], mode: str) -> Target:
    options = scenario["resolver_options"]
    python = scenario["environment"]["python"]
    if mode == "compile" and options["python"]:
        python = options["python"]
    platforms = _MANYLINUX2014 if options["python_platform"] else None
    return Target.linux(python, platforms) if platforms else Target.linux(python)


@pytest.mark.skipif(not NAMES, reason="packse scenarios not present")
@pytest.mark.parametrize("name", NAMES)
def test_packse_scenario(name: str) -> None:
    scenario = SCENARIOS[name]
    reference = REFERENCE.get(name, {})
    mode = reference.get("mode", "install")
    options = scenario["resolver_options"]
    chosen_options = Options(
        prerelease="allow" if options["prereleases"] else "if-necessary-or-explicit",
        only_binary=frozenset(canonicalize_name(n) for n in options["no_build"] or ()),
        no_binary=frozenset(canonicalize_name(n) for n in options["no_binary"] or ()),
    )
    requirements = [r["requirement"] for r in scenario["root"]["requires"]]
    satisfiable = reference["uv_exit"] == 0 if reference else scenario["expected"]["satisfiable"]
    expected = dict(reference.get("expected_packages", {}))
    if reference.get("uv_exit") == 0:
        resolved = reference["uv_resolved"]
        expected = {k: resolved[k][0] if k in resolved else v for k, v in expected.items()}
    source, target = ScenarioSource(scenario), _target(scenario, mode)
    if not satisfiable:
        with pytest.raises(SolveFailure):
            resolve(source, requirements, target, chosen_options)
        return
    result = resolve(source, requirements, target, chosen_options)
    for package, version in expected.items():
        assert str(result.get(canonicalize_name(package))) == str(Version(version)), (
            package,
            result,
        )
