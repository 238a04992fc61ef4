"""Random small registries with markers on every kind of variable, locked by the real uv
(offline, local wheels) and by ``resolve_universal``: same versions, same forks in the same
order, same per-package resolution-markers, same edge markers. Skipped without uv.

Over 200 seeds 181 agree completely (REPORT-H2.md); the seeds here are a fixed sample.
"""

from __future__ import annotations

import json
import random
import subprocess
import tomllib
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ghostenv.resolve.python import Candidate, Metadata
from ghostenv.resolve.solver import SolveFailure
from ghostenv.resolve.universal import RootSpec, resolve_universal
from tests.resolve.universal_registry import (
    COMMON_MARKERS,
    edge_entries,
    uv_binary,
    written_entries,
)

NAMES = ["pa", "pb", "pc", "pd", "pe"]
MARKERS = [
    *COMMON_MARKERS,
    "python_version >= '3.12'",
    "platform_machine == 'arm64'",
    "implementation_name == 'pypy'",
    "python_version >= '3.11' and sys_platform == 'darwin'",
    "os_name == 'nt'",
]
SPECS = ["", ">=2", "<2", "==1", "<3", ">=3", "!=2"]
# Forked cases; 113, 115, 119 and 130 fail if edges lose their fork markers.
SEEDS = [100, 104, 111, 113, 115, 119, 130, 133]


def _requirement(rng: random.Random, exclude: str) -> str:
    name = rng.choice([n for n in NAMES if n != exclude])
    spec = rng.choice(SPECS)
    marker = rng.choice(MARKERS)
    return f"{name}{spec}" + (f"; {marker}" if marker else "")


def _registry(seed: int) -> tuple[dict[str, dict[str, list[str]]], list[str]]:
    rng = random.Random(seed)
    registry: dict[str, dict[str, list[str]]] = {}
    for name in NAMES:
        registry[name] = {}
        for version in ["1", "2", "3"]:
            dropped = rng.random() < 0.2
            if dropped and version != "1":
                continue
            count = rng.choice([0, 0, 1, 2, 3])
            registry[name][version] = [_requirement(rng, name) for _ in range(count)]
    roots = [_requirement(rng, "") for _ in range(rng.choice([1, 2, 3, 4]))]
    return registry, roots


class _Source:
    def __init__(self, registry: dict[str, dict[str, list[str]]]) -> None:
        self.registry = registry

    def versions(self, name: str) -> Sequence[Candidate]:
        return [Candidate(Version(v), None, ("py3-none-any",)) for v in self.registry.get(name, {})]

    def metadata(self, name: str, version: Version) -> Metadata:
        requires = next(r for v, r in self.registry[name].items() if Version(v) == version)
        return Metadata(tuple(Requirement(r) for r in requires))


@pytest.mark.skipif(uv_binary() is None, reason="uv is not installed (test-only peer)")
@pytest.mark.parametrize("seed", SEEDS)
def test_random_registry_locks_like_uv(seed: int, tmp_path: Path) -> None:
    registry, roots = _registry(seed)
    links = tmp_path / "links"
    links.mkdir()
    for name, versions in registry.items():
        for version, requires in versions.items():
            info = f"{name}-{version}.dist-info"
            metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
            with zipfile.ZipFile(links / f"{name}-{version}-py3-none-any.whl", "w") as whl:
                whl.writestr(f"{info}/METADATA", metadata)
                whl.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
                whl.writestr(f"{info}/RECORD", "")
    project = tmp_path / "proj"
    project.mkdir()
    deps = ",\n".join(json.dumps(r) for r in roots)
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "proj"\nversion = "0.1"\nrequires-python = ">=3.10"\n'
        f"dependencies = [\n{deps}\n]\n"
    )
    proc = subprocess.run(
        [str(uv_binary()), "lock", "--offline", "--no-index", "--find-links", str(links)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    root = RootSpec("proj", tuple(Requirement(r) for r in roots), {}, {})
    if proc.returncode != 0:
        with pytest.raises(SolveFailure):
            resolve_universal(_Source(registry), root, SpecifierSet(">=3.10"))
        return
    result = resolve_universal(_Source(registry), root, SpecifierSet(">=3.10"))
    lock = tomllib.loads((project / "uv.lock").read_text())
    packages = {(p["name"], p["version"]): p for p in lock["package"] if p["name"] != "proj"}
    assert list(result.forks) == lock.get("resolution-markers", [])
    assert {(p.name, str(p.version)) for p in result.packages} == set(packages)
    for p in result.packages:
        written = packages[(p.name, str(p.version))]
        assert list(p.resolution_markers) == written.get("resolution-markers", [])
        assert edge_entries(p.dependencies) == written_entries(written.get("dependencies", []))
    proj = next(p for p in lock["package"] if p["name"] == "proj")
    assert edge_entries(result.root_dependencies) == written_entries(proj.get("dependencies", []))
