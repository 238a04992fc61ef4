"""The `web` workload against a lock the real uv writes at the same moment (network, uv peer).

Same packages and versions, same top-level forks in the same order, same
per-package resolution-markers and the same marker on every dependency edge.
(data and big agree too; they are left to REPORT-H2.md because they take longer.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from ghostenv.resolve.universal import Edge, RootSpec, resolve_universal

WORKLOAD = Path("/work/shared/workloads/web/pyproject.toml")


def _uv() -> str | None:
    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    return found if Path(found).exists() else None


def _merged(edges: tuple[Edge, ...]) -> list[tuple[Any, ...]]:
    """Edges as uv writes dependency entries: same (name, version, marker) share one entry."""
    out: dict[tuple[Any, ...], set[str]] = {}
    for e in edges:
        extras = out.setdefault((e.name, str(e.version) if e.version else None, e.marker), set())
        if e.extra:
            extras.add(e.extra)
    return sorted((n, v, tuple(sorted(x)), m) for (n, v, m), x in out.items())


def _entries(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (d["name"], d.get("version"), tuple(d.get("extra", [])), d.get("marker")) for d in items
    )


@pytest.mark.network
@pytest.mark.skipif(_uv() is None or not WORKLOAD.exists(), reason="needs uv and the workloads")
def test_web_workload_matches_uv(tmp_path: Path, cache_dir: Path) -> None:
    from ghostenv.resolve.index_source import IndexSettings, IndexSource

    project = tmp_path / "web"
    project.mkdir()
    shutil.copy(WORKLOAD, project / "pyproject.toml")
    proc = subprocess.run(
        [str(_uv()), "lock", "-q"], cwd=project, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip(f"uv lock failed (PyPI unreachable?): {proc.stderr[-200:]}")
    lock = tomllib.loads((project / "uv.lock").read_text())
    spec = tomllib.loads(WORKLOAD.read_text())
    meta = spec["project"]
    root = RootSpec(
        meta["name"],
        tuple(Requirement(r) for r in meta["dependencies"]),
        {},
        {g: tuple(Requirement(r) for r in v) for g, v in spec["dependency-groups"].items()},
    )
    try:
        with IndexSource(IndexSettings(cache_dir=cache_dir), None) as source:
            result = resolve_universal(source, root, SpecifierSet(meta["requires-python"]))
    except Exception as exc:  # network trouble is a skip, a wrong answer is not
        if "network" in type(exc).__name__.lower():
            pytest.skip(str(exc))
        raise

    assert list(result.forks) == lock.get("resolution-markers", [])
    packages = {(p["name"], p["version"]): p for p in lock["package"] if p["name"] != meta["name"]}
    assert {(p.name, str(p.version)) for p in result.packages} == set(packages)
    for p in result.packages:
        written = packages[(p.name, str(p.version))]
        assert list(p.resolution_markers) == written.get("resolution-markers", []), p.name
        assert _merged(p.dependencies) == _entries(written.get("dependencies", [])), p.name
    project_entry = next(p for p in lock["package"] if p["name"] == meta["name"])
    assert _merged(result.root_dependencies) == _entries(project_entry["dependencies"])
    for group, edges in result.root_groups:
        assert _merged(edges) == _entries(project_entry["dev-dependencies"][group]), group
