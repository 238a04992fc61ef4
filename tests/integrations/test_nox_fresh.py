"""The nox backend's fast first sync (ghostenv.nox.fresh) and its uv-free backend lookup.

Real nox, real uv lock, the fixture index. Which path a sync took is read from
the environment's event log (``"path": "fresh"`` marks the fast path).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ghostenv.integrate.stamp import installed
from ghostenv.integrate.steps import sync_fingerprint
from tests.integrations.test_nox import (
    FIXTURE,
    events,
    locked_copy,
    packaged_project,
    reports,
    run_nox,
)

NOXFILE = '''
import nox
import ghostenv.nox

REPORT = "import importlib.metadata as m, sys; print('REPORT', sys.version_info[:2], " \\
         "sorted((d.metadata['Name'], d.version) for d in m.distributions()))"


@nox.session(venv_backend="ghostenv")
def locked(session):
    ghostenv.nox.sync(session, groups=["test"])
    session.run("python", "-c", REPORT)


@nox.session(venv_backend="ghostenv")
def default(session):  # the default `dev` group, which this project does not define
    ghostenv.nox.sync(session)
    session.run("python", "-c", REPORT)


@nox.session(venv_backend="ghostenv")
def installed_first(session):  # not pristine when the sync comes: the general step
    session.install("gamma")
    ghostenv.nox.sync(session, groups=["test"])
    session.run("python", "-c", REPORT)


@nox.session(venv_backend="ghostenv")
def touched(session):  # something ran into the venv before the sync: it must survive
    session.run("python", "-c", "import pathlib, sysconfig; "
                "pathlib.Path(sysconfig.get_paths()['purelib'], 'marker.txt').write_text('x')")
    ghostenv.nox.sync(session, groups=["test"])
    session.run("python", "-c", REPORT)


@nox.session(venv_backend="ghostenv")
def odd_extra(session):  # an extra the project does not define: the fast path declines
    ghostenv.nox.sync(session, groups=["test"], extras=["nope"])
    session.run("python", "-c", REPORT)


@nox.session(venv_backend="ghostenv", venv_params=["--system-site-packages"])
def system(session):  # the fast path writes no system-site-packages venv: the general step
    ghostenv.nox.sync(session, groups=["test"])
    session.run("python", "-c", REPORT)
'''


@pytest.fixture
def project(tmp_path: Path, fixture_index: Any, cache_dir: Path) -> Path:
    root = locked_copy(FIXTURE, tmp_path / "nox-fresh", fixture_index)
    (root / "noxfile.py").write_text(NOXFILE)
    return root


def _files(env: Path) -> set[str]:
    """Paths under the environment's lib/ (what the packages put there)."""
    return {str(p.relative_to(env)) for p in (env / "lib").rglob("*")
            if "__pycache__" not in p.parts}


def _stamp(env: Path) -> str:
    state = json.loads((env / ".ghostenv" / "state.json").read_text())
    fingerprint = state["steps"]["sync"]["fingerprint"]
    assert isinstance(fingerprint, str)
    return fingerprint


def test_fresh_sync_equals_the_general_step_and_nox_r_skips_after_it(project: Path) -> None:
    env = project / ".nox" / "locked"
    general = run_nox(project, "-s", "locked", env={"GHOSTENV_NOX_FAST": "0"})
    assert general.returncode == 0, general.stdout + general.stderr
    [sync] = events(env, "sync")
    assert "path" not in sync
    want_files, want_dists, want_stamp = _files(env), installed(env), _stamp(env)
    [(_, want_report)] = reports(general.stdout + general.stderr)

    shutil.rmtree(env)
    fast = run_nox(project, "-s", "locked")
    assert fast.returncode == 0, fast.stdout + fast.stderr
    [sync] = events(env, "sync")
    assert sync["path"] == "fresh"
    assert sorted(sync["installed"]) == sorted(f"{n}=={v}" for n, v in want_dists.items())
    assert [c["reused"] for c in events(env, "create")] == [False]  # the log survived
    assert installed(env) == want_dists
    assert _files(env) == want_files
    [(_, report)] = reports(fast.stdout + fast.stderr)
    assert report == want_report
    # the stamp is the one the general step writes: a reused environment skips the sync
    assert _stamp(env) == want_stamp
    assert sync_fingerprint(env, project.resolve(), groups=["test"], extras=(),
                            all_groups=False, all_extras=False,
                            install_project=True) == want_stamp
    again = run_nox(project, "--reuse-venv=yes", "-s", "locked")
    assert again.returncode == 0, again.stdout + again.stderr
    assert events(env, "sync")[-1]["skipped"]
    assert [c["reused"] for c in events(env, "create")] == [False, True]

    # a recreated environment (no -R) takes the fast path again, and is the same
    shutil.rmtree(project / ".nox")
    third = run_nox(project, "-s", "locked")
    assert third.returncode == 0, third.stdout + third.stderr
    assert events(env, "sync")[-1]["path"] == "fresh"
    assert installed(env) == want_dists
    assert _files(env) == want_files


def test_undefined_default_group_still_takes_the_fast_path(project: Path) -> None:
    result = run_nox(project, "-s", "default")
    assert result.returncode == 0, result.stdout + result.stderr
    env = project / ".nox" / "default"
    [sync] = events(env, "sync")
    assert sync["path"] == "fresh"
    [(_, dists)] = reports(result.stdout + result.stderr)
    assert "alpha" in dists
    assert "epsilon-tool" not in dists  # the test group was not asked for


@pytest.mark.parametrize("session", ["installed_first", "system", "touched"])
def test_not_pristine_environments_take_the_general_step(project: Path, session: str) -> None:
    result = run_nox(project, "-s", session)
    assert result.returncode == 0, result.stdout + result.stderr
    env = project / ".nox" / session
    [sync] = events(env, "sync")
    assert "path" not in sync
    [(_, dists)] = reports(result.stdout + result.stderr)
    assert {"alpha", "epsilon-tool"} <= set(dists)
    if session == "installed_first":
        assert "gamma" in dists
    if session == "system":  # the general step keeps the venv's setting (f94cb4b)
        assert "include-system-site-packages = true" in (env / "pyvenv.cfg").read_text()
    if session == "touched":
        assert list(env.glob("lib/python*/site-packages/marker.txt"))


def test_a_declined_fast_path_leaves_the_venv_create_wrote(project: Path) -> None:
    """The fast path refuses an undefined extra; the general step then runs in the venv
    ``create`` made again, with the event log intact and nothing left beside it."""
    result = run_nox(project, "-s", "odd_extra")
    assert result.returncode == 0, result.stdout + result.stderr
    env = project / ".nox" / "odd_extra"
    [sync] = events(env, "sync")
    assert "path" not in sync
    assert (env / "bin" / "python").exists()
    assert "prompt = odd_extra" in (env / "pyvenv.cfg").read_text()  # as create() wrote it
    assert [c["reused"] for c in events(env, "create")] == [False]
    [(_, dists)] = reports(result.stdout + result.stderr)
    assert {"alpha", "epsilon-tool"} <= set(dists)
    assert not (env.parent / "odd_extra.ghostenv-nox-state").exists()


def test_a_ghostenv_only_session_never_asks_for_uv(project: Path, tmp_path: Path) -> None:
    """nox's backend lookup runs ``uv --version`` for every backend; ghostenv's skips it."""
    marker = tmp_path / "uv-was-run"
    fake = tmp_path / "fake-uv"
    fake.write_text(f"#!/bin/sh\ntouch {marker}\necho '{{\"version\": \"0.9.0\"}}'\n")
    fake.chmod(0o755)
    env = {"UV": str(fake)}
    result = run_nox(project, "-s", "locked", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not marker.exists()
    # control: nox's own lookup does run it (so the assertion above can fail)
    subprocess.run([sys.executable, "-c", "import nox.virtualenv as v; v.OPTIONAL_VENVS"],
                   env={**os.environ, **env}, check=True)
    assert marker.exists()


def test_a_packaged_project_is_built_once_then_synced_by_the_fast_path(
        tmp_path: Path, fixture_index: Any, cache_dir: Path) -> None:
    """The first sync builds the editable wheel (the general step: the fast path needs it
    cached); a later new environment takes the fast path with that build."""
    root, env_vars = packaged_project(tmp_path / "nox-package", fixture_index)
    env = root / ".nox" / "tests"
    first = run_nox(root, "-s", "tests", env=env_vars)
    assert first.returncode == 0, first.stdout + first.stderr
    [sync] = events(env, "sync")
    assert "path" not in sync
    want = installed(env)
    assert want.get("nox-package") == "0.1.0"

    shutil.rmtree(root / ".nox")
    second = run_nox(root, "-s", "tests", env=env_vars)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "ANSWER 1" in second.stderr + second.stdout
    [sync] = events(env, "sync")
    assert sync["path"] == "fresh"
    assert installed(env) == want


def test_a_failing_fast_path_leaves_the_error_to_the_general_step(project: Path) -> None:
    """Offline with an empty store: the fast path fails (its error line is held back), the
    general step fails too and says so once, through nox, in a venv create() wrote."""
    proc = run_nox(project, "-s", "locked", env={"GHOSTENV_OFFLINE": "1"})
    assert proc.returncode != 0
    assert "Session locked aborted" in proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "offline" in line.lower()]
    assert len(lines) == 1, proc.stderr
    assert "ghostenv: offline, and the store lacks" in lines[0], proc.stderr
    verbose = run_nox(project, "-v", "-s", "locked", env={"GHOSTENV_OFFLINE": "1"})
    assert "the fast path gave up: error: offline" in verbose.stderr
    env = project / ".nox" / "locked"
    assert (env / "pyvenv.cfg").is_file()
    assert events(env, "sync") == []  # a failed step records nothing
    assert [c["reused"] for c in events(env, "create")] == [False]
