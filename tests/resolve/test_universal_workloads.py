"""The `web` workload against a lock the real uv writes at the same moment (network, uv peer).

Same packages and versions, same top-level forks in the same order, same
per-package resolution-markers and the same marker on every dependency edge.
(data and big agree too; they are left to REPORT-H2.md because they take longer.)
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from ghostenv.resolve.universal import RootSpec, resolve_universal
from tests.resolve.universal_registry import edge_entries, uv_binary, written_entries

WORKLOAD = Path("/work/shared/workloads/web/pyproject.toml")


@pytest.mark.network
@pytest.mark.skipif(
    uv_binary() is None or not WORKLOAD.exists(), reason="needs uv and the workloads"
)
def test_web_workload_matches_uv(tmp_path: Path, cache_dir: Path) -> None:
    from ghostenv.resolve.index_source import IndexSettings, IndexSource

    project = tmp_path / "web"
    project.mkdir()
    shutil.copy(WORKLOAD, project / "pyproject.toml")
    proc = subprocess.run(
        [str(uv_binary()), "lock", "-q"], cwd=project, capture_output=True, text=True, check=False
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
        want = written_entries(written.get("dependencies", []))
        assert edge_entries(p.dependencies) == want, p.name
    project_entry = next(p for p in lock["package"] if p["name"] == meta["name"])
    want_root = written_entries(project_entry["dependencies"])
    assert edge_entries(result.root_dependencies) == want_root
    for group, edges in result.root_groups:
        want_group = written_entries(project_entry["dev-dependencies"][group])
        assert edge_entries(edges) == want_group, group
