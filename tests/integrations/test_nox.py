"""The nox backend with the real nox: ``python -m nox -f fixture/noxfile.py``.

The fixture project (fixtures/projects/nox-basic) is copied to tmp_path and
locked by the real uv against the fixture index. Whether a step did work is
read from ghostenv's own event log in the session environment
(``.ghostenv/events.jsonl``), never from timings.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ghostenv.integrate.stamp import read_events

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "fixtures" / "projects" / "nox-basic"
UV = Path(sys.executable).parent / "uv"


def uv_lock(project: Path, index: Any, cache: Path) -> None:
    if not UV.exists():
        pytest.skip("uv is not installed next to the test interpreter")
    proc = subprocess.run(
        [str(UV), "lock", "--no-config", "--index-url", index.simple_url,
         "--python", sys.executable, "--cache-dir", str(cache)],
        cwd=project, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr


def locked_copy(fixture: Path, root: Path, index: Any) -> Path:
    """A copy of ``fixture`` at ``root``, locked by the real uv against ``index``.

    Where the nox, tox and ci tests all start: a project as a user has it.
    uv's cache goes beside ``root`` so that tests do not share it.
    """
    shutil.copytree(fixture, root)
    uv_lock(root, index, root.parent / "uv-cache")
    return root


def run_nox(project: Path, *args: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    full.pop("FORCE_COLOR", None)
    full.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(project / "noxfile.py"), *args],
        cwd=project, env=full, capture_output=True, text=True, timeout=300, check=False,
    )


def reports(output: str) -> list[tuple[tuple[int, int], dict[str, str]]]:
    """The ``REPORT`` lines the fixture sessions print: (python version, {dist: version})."""
    found = []
    for match in re.finditer(r"^REPORT \((\d+), (\d+)\) (\[.*\])$", output, re.M):
        pairs = json.loads(match.group(3).replace("(", "[").replace(")", "]").replace("'", '"'))
        found.append(((int(match.group(1)), int(match.group(2))),
                      {re.sub(r"[-_.]+", "-", n).lower(): v for n, v in pairs}))
    return found


def events(env: Path, kind: str) -> list[dict[str, Any]]:
    return [e for e in read_events(env) if e["event"] == kind]


@pytest.fixture
def project(tmp_path: Path, fixture_index: Any, cache_dir: Path) -> Path:
    return locked_copy(FIXTURE, tmp_path / "nox-basic", fixture_index)


def _env(project: Path, session: str) -> Path:
    return project / ".nox" / session


def test_sync_first_run_reuse_and_lock_change(project: Path, fixture_index: Any) -> None:
    first = run_nox(project, "-s", "locked")
    assert first.returncode == 0, first.stdout + first.stderr
    env = _env(project, "locked")
    [(_, dists)] = reports(first.stdout + first.stderr)
    assert {"alpha", "beta", "gamma", "epsilon-tool"} <= set(dists)
    assert "pip" not in dists
    assert "setuptools" not in dists
    [sync1] = events(env, "sync")
    assert not sync1["skipped"]
    assert {item.split("==")[0] for item in sync1["installed"]} == set(dists)

    # -R (reuse + --no-install): nothing is even checked.
    again = run_nox(project, "-R", "-s", "locked")
    assert again.returncode == 0, again.stdout + again.stderr
    assert events(env, "sync")[-1] == {**events(env, "sync")[-1], "skipped": True,
                                       "reason": "no-install"}
    # --reuse-venv=yes (installs run): the environment is reused and the gate skips the sync,
    # without one index request.
    fixture_index.reset()
    again = run_nox(project, "--reuse-venv=yes", "-s", "locked")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "uv.lock unchanged, sync skipped" in again.stderr
    assert [c["reused"] for c in events(env, "create")] == [False, True, True]
    sync2 = events(env, "sync")[-1]
    assert sync2["skipped"]
    assert "reason" not in sync2
    assert fixture_index.requests == []

    # The lock changes (alpha pinned back, its test group loses epsilon-tool): only the
    # difference is applied.
    text = (project / "pyproject.toml").read_text()
    text = text.replace('dependencies = ["alpha"]', 'dependencies = ["alpha==1.0.0"]')
    text = text.replace('test = ["epsilon-tool"]', "test = []")
    (project / "pyproject.toml").write_text(text)
    uv_lock(project, fixture_index, project.parent / "uv-cache")
    third = run_nox(project, "--reuse-venv=yes", "-s", "locked")
    assert third.returncode == 0, third.stdout + third.stderr
    sync3 = events(env, "sync")[-1]
    assert not sync3["skipped"]
    assert sync3["installed"] == ["alpha==1.0.0"]
    assert sync3["removed"] == ["epsilon-tool==1.0.0"]
    [(_, dists3)] = reports(third.stdout + third.stderr)
    assert dists3["alpha"] == "1.0.0"
    assert "epsilon-tool" not in dists3
    assert dists3["beta"] == dists["beta"]


def _pythons() -> list[str]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = []
    for minor in ("3.10", "3.11", "3.12", "3.13"):
        if any(p.name.startswith(minor + ".") for p in root.glob("*")):
            found.append(minor)
    return found


def test_parametrized_pythons(project: Path, fixture_index: Any) -> None:
    pythons = _pythons()
    if len(pythons) < 2:
        pytest.skip("needs at least two of Python 3.10-3.13 from pyenv")
    env_vars = {"FIXTURE_PYTHONS": ",".join(pythons),
                "GHOSTENV_INDEX_URL": fixture_index.simple_url}
    # Every Python syncs the lock; the oldest and newest also install through `ghostenv install`
    # (sessions named `installs-3.10` etc.; a resolve per Python costs ~2 s, so not all four).
    ends = [f"installs-{pythons[0]}", f"installs-{pythons[-1]}"]
    proc = run_nox(project, "-s", "locked", *ends, env=env_vars)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    seen = reports(proc.stdout + proc.stderr)
    assert [f"{v[0]}.{v[1]}" for v, _ in seen] == [*pythons, pythons[0], pythons[-1]]
    for _, dists in seen[: len(pythons)]:
        assert set(dists) == {"alpha", "beta", "gamma", "epsilon-tool"}
    for _, dists in seen[len(pythons):]:
        assert set(dists) == {"alpha", "beta", "gamma"}
        assert dists["alpha"] == "1.0.0"
    for python in pythons:
        env = _env(project, f"locked-{python.replace('.', '-')}")
        assert not events(env, "sync")[-1]["skipped"]
    again = run_nox(project, "--reuse-venv=yes", "-s", "locked", *ends, env=env_vars)
    assert again.returncode == 0, again.stdout + again.stderr
    for python in pythons:
        env = _env(project, f"locked-{python.replace('.', '-')}")
        assert events(env, "sync")[-1]["skipped"]
        assert events(env, "create")[-1]["reused"]
    for python in (pythons[0], pythons[-1]):
        env = _env(project, f"installs-{python.replace('.', '-')}")
        assert [e["skipped"] for e in events(env, "install")] == [False, True]


def test_session_install_goes_through_ghostenv_and_is_skipped_on_reuse(
        project: Path, fixture_index: Any) -> None:
    env_vars = {"GHOSTENV_INDEX_URL": fixture_index.simple_url}
    first = run_nox(project, "-s", "installs", env=env_vars)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "-m ghostenv install --venv" in first.stderr
    env = _env(project, "installs")
    [(_, dists)] = reports(first.stdout + first.stderr)
    assert dists == {"alpha": "1.0.0", "beta": dists["beta"], "gamma": "1.0.0"}
    assert not (env / "bin" / "pip").exists()
    [install] = events(env, "install")
    assert not install["skipped"]
    assert sorted(c.split("==")[0] for c in install["changed"]) == ["alpha", "beta", "gamma"]

    fixture_index.reset()
    again = run_nox(project, "--reuse-venv=yes", "-s", "installs", env=env_vars)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "install skipped" in again.stderr
    assert "-m ghostenv install" not in again.stderr  # no process started
    assert events(env, "install")[-1]["skipped"]
    assert fixture_index.requests == []

    # Something else removed a package the step installed: the step runs again.
    shutil.rmtree(next((env / "lib").glob("python*/site-packages/gamma-*.dist-info")))
    third = run_nox(project, "--reuse-venv=yes", "-s", "installs", env=env_vars)
    assert third.returncode == 0, third.stdout + third.stderr
    assert not events(env, "install")[-1]["skipped"]
    [(_, dists3)] = reports(third.stdout + third.stderr)
    assert dists3 == dists


def packaged_project(root: Path, index: Any) -> tuple[Path, dict[str, str]]:
    """The nox-package fixture (a project with a build system) locked at ``root``, and the
    environment its sessions need to build it offline (skips when the backends are absent)."""
    project = locked_copy(REPO / "fixtures" / "projects" / "nox-package", root, index)
    backends = REPO.parent / "shared" / "packse" / "index" / "vendor" / "build"
    if not backends.is_dir():
        pytest.skip("no offline build backends (shared/packse/index/vendor/build)")
    return project, {"GHOSTENV_INDEX_URL": index.simple_url,
                     "GHOSTENV_FIND_LINKS": str(backends)}


def test_sync_installs_the_project_editable(tmp_path: Path, fixture_index: Any,
                                            cache_dir: Path) -> None:
    root, env_vars = packaged_project(tmp_path / "nox-package", fixture_index)
    first = run_nox(root, "-s", "tests", env=env_vars)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "ANSWER 1" in first.stderr + first.stdout
    env = _env(root, "tests")
    assert "nox-package==0.1.0" in events(env, "sync")[-1]["installed"]

    # Editable: a code change is seen without any install work.
    init = root / "src" / "nox_package" / "__init__.py"
    init.write_text(init.read_text().replace("ANSWER = 1", "ANSWER = 2"))
    again = run_nox(root, "--reuse-venv=yes", "-s", "tests", env=env_vars)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "ANSWER 2" in again.stderr + again.stdout
    assert events(env, "sync")[-1]["skipped"]


def test_what_session_install_asked_for_survives_the_lock_dropping_it(
        project: Path, fixture_index: Any) -> None:
    env_vars = {"GHOSTENV_INDEX_URL": fixture_index.simple_url}
    first = run_nox(project, "-s", "mixed", env=env_vars)
    assert first.returncode == 0, first.stdout + first.stderr
    env = _env(project, "mixed")
    assert events(env, "install")[-1]["changed"] == []  # the sync had installed it already

    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(text.replace('test = ["epsilon-tool"]', "test = []"))
    uv_lock(project, fixture_index, project.parent / "uv-cache")
    again = run_nox(project, "--reuse-venv=yes", "-s", "mixed", env=env_vars)
    assert again.returncode == 0, again.stdout + again.stderr
    assert events(env, "sync")[-1]["removed"] == []
    assert events(env, "install")[-1]["skipped"]
    [(_, dists)] = reports(again.stdout + again.stderr)
    assert "epsilon-tool" in dists


def test_errors_fail_the_session_with_one_readable_line(tmp_path: Path, fixture_index: Any,
                                                        cache_dir: Path) -> None:
    root = tmp_path / "nolock"
    shutil.copytree(FIXTURE, root)  # no uv.lock
    proc = run_nox(root, "-s", "locked")
    assert proc.returncode != 0
    assert f"ghostenv: {root / 'uv.lock'}: no uv.lock to sync from" in proc.stderr
    assert "Traceback" not in proc.stderr

    (root / "noxfile.py").write_text((root / "noxfile.py").read_text().replace(
        'session.install("alpha==1.0.0", "gamma")', 'session.install("no-such-package")'))
    proc = run_nox(root, "-s", "installs", env={"GHOSTENV_INDEX_URL": fixture_index.simple_url})
    assert proc.returncode != 0
    assert "error: " in proc.stderr
    assert "no-such-package" in proc.stderr
    assert "Session installs failed" in proc.stderr
    assert events(_env(root, "installs"), "install") == []  # a failed step records nothing
