"""The tox 4 plugin with the real tox on a fixture project (fixtures/projects/tox-basic).

The plugin is found the way an installed ghostenv offers it: through the
``tox`` entry-point group. Until pyproject.toml declares it, the test puts a
dist-info holding just that entry point on tox's PYTHONPATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.test_nox import events, locked_copy, reports, uv_lock

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "fixtures" / "projects" / "tox-basic"

pytest.importorskip("tox", reason="tox is not installed in the test environment")


def _entry_point_dir(tmp_path: Path) -> Path:
    """A directory whose only content declares ``ghostenv.tox.plugin`` in the ``tox`` group."""
    from importlib.metadata import entry_points

    if any(ep.value == "ghostenv.tox.plugin" for ep in entry_points(group="tox")):
        return tmp_path  # declared by the installed ghostenv already
    dist = tmp_path / "eps" / "ghostenv_tox_plugin-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ghostenv-tox-plugin\n"
                                   "Version: 0\n")
    (dist / "entry_points.txt").write_text("[tox]\nghostenv = ghostenv.tox.plugin\n")
    return dist.parent


def run_tox(project: Path, eps: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.pop("FORCE_COLOR", None)
    env.pop("VIRTUAL_ENV", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(eps), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "tox", "-c", str(project / "tox.ini"), *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def tox_ok(project: Path, eps: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """:func:`run_tox` that must succeed; tox's whole output is the message if it does not."""
    proc = run_tox(project, eps, *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture
def project(tmp_path: Path, fixture_index: Any, cache_dir: Path) -> Path:
    return locked_copy(FIXTURE, tmp_path / "tox-basic", fixture_index)


def test_lock_runner_syncs_then_skips_then_applies_the_difference(
        project: Path, tmp_path: Path, fixture_index: Any) -> None:
    eps = _entry_point_dir(tmp_path)
    first = tox_ok(project, eps, "-e", "locked")
    env = project / ".tox" / "locked"
    [(_, dists)] = reports(first.stdout)
    assert set(dists) == {"alpha", "beta", "gamma", "epsilon-tool"}  # no pip, no setuptools
    [create] = events(env, "create")
    assert not create["reused"]
    [sync1] = events(env, "sync")
    assert len(sync1["installed"]) == 4

    fixture_index.reset()
    again = tox_ok(project, eps, "-e", "locked")
    assert "uv.lock unchanged, sync skipped" in again.stdout + again.stderr
    assert len(events(env, "create")) == 1
    assert events(env, "sync")[-1]["skipped"]
    assert fixture_index.requests == []

    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(
        text.replace('dependencies = ["alpha"]', 'dependencies = ["alpha==1.0.0"]'))
    uv_lock(project, fixture_index, tmp_path / "uv-cache")
    third = tox_ok(project, eps, "-e", "locked")
    sync3 = events(env, "sync")[-1]
    assert sync3["installed"] == ["alpha==1.0.0"]
    assert sync3["removed"] == []
    [(_, dists3)] = reports(third.stdout)
    assert dists3 == {**dists, "alpha": "1.0.0"}


def test_venv_runner_installs_deps_with_ghostenv(project: Path, tmp_path: Path,
                                                 fixture_index: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    eps = _entry_point_dir(tmp_path)
    monkeypatch.setenv("GHOSTENV_INDEX_URL", fixture_index.simple_url)
    first = tox_ok(project, eps, "-e", "plain")
    env = project / ".tox" / "plain"
    [(_, dists)] = reports(first.stdout)
    assert dists == {"gamma": "1.0.0"}  # and no pip, setuptools or wheel
    [install] = events(env, "install")
    assert install["changed"] == ["gamma==1.0.0"]
    assert install["args"] == ["gamma"]

    fixture_index.reset()
    tox_ok(project, eps, "-e", "plain")
    assert len(events(env, "install")) == 1  # tox's own cache and ours: nothing to do
    assert len(events(env, "create")) == 1
    assert fixture_index.requests == []


def test_lock_runner_keeps_deps_across_lock_changes(project: Path, tmp_path: Path,
                                                    fixture_index: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    eps = _entry_point_dir(tmp_path)
    monkeypatch.setenv("GHOSTENV_INDEX_URL", fixture_index.simple_url)
    first = tox_ok(project, eps, "-e", "locked-deps")
    [(_, dists)] = reports(first.stdout)
    assert set(dists) == {"alpha", "beta", "gamma", "epsilon-tool", "zeta-big"}

    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(text.replace('test = ["epsilon-tool"]',
                                                         "test = []"))
    uv_lock(project, fixture_index, tmp_path / "uv-cache")
    second = tox_ok(project, eps, "-e", "locked-deps")
    env = project / ".tox" / "locked-deps"
    sync = events(env, "sync")[-1]
    assert sync["removed"] == ["epsilon-tool==1.0.0"]  # the exact sync spares zeta-big
    [(_, dists2)] = reports(second.stdout)
    assert set(dists2) == {"alpha", "beta", "gamma", "zeta-big"}


def test_lock_runner_installs_the_project_editable(tmp_path: Path, fixture_index: Any,
                                                   cache_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    backends = REPO.parent / "shared" / "packse" / "index" / "vendor" / "build"
    if not backends.is_dir():
        pytest.skip("no offline build backends (shared/packse/index/vendor/build)")
    root = tmp_path / "pkg"
    shutil.copytree(REPO / "fixtures" / "projects" / "nox-package", root)
    (root / "tox.ini").write_text(
        "[testenv:locked]\nrunner = ghostenv-lock\ndependency_groups = test\n"
        "ghostenv_install_project = true\n"
        "commands = python -c \"import nox_package; print('ANSWER', nox_package.ANSWER)\"\n")
    uv_lock(root, fixture_index, tmp_path / "uv-cache")
    monkeypatch.setenv("GHOSTENV_INDEX_URL", fixture_index.simple_url)
    monkeypatch.setenv("GHOSTENV_FIND_LINKS", str(backends))
    eps = _entry_point_dir(tmp_path)
    first = tox_ok(root, eps, "-e", "locked")
    assert "ANSWER 1" in first.stdout
    assert not (root / ".tox" / ".pkg").exists()  # no tox packaging environment (pip) at all
    init = root / "src" / "nox_package" / "__init__.py"
    init.write_text(init.read_text().replace("ANSWER = 1", "ANSWER = 2"))
    again = tox_ok(root, eps, "-e", "locked")
    assert "ANSWER 2" in again.stdout
    assert events(root / ".tox" / "locked", "sync")[-1]["skipped"]
