"""The project's own noxfile runs its `tests` session on ghostenv's nox backend.

A fresh clone of the committed tree is used. The full session (install
`-e .[test]` from PyPI, then pytest) needs the network and a minute with a
cold store, so it runs only with GHOSTENV_DOGFOOD=1; by default the test checks
that the clone's noxfile loads, registers the backend and puts `tests` on it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ghostenv.integrate.stamp import read_events

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout")
    target = tmp_path_factory.mktemp("dogfood") / "ghostenv"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{REPO}", str(target)],
                   check=True, capture_output=True, timeout=120)
    return target


def _nox(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "FORCE_COLOR")}
    return subprocess.run([sys.executable, "-m", "nox", "-f", str(clone / "noxfile.py"), *args],
                          cwd=clone, env=env, capture_output=True, text=True, timeout=900,
                          check=False)


def test_noxfile_puts_tests_on_the_ghostenv_backend(clone: Path) -> None:
    probe = (
        "import runpy, sys, nox.registry, nox.virtualenv\n"
        f"runpy.run_path({str(clone / 'noxfile.py')!r})\n"
        "funcs = nox.registry.get()\n"
        "print(funcs['tests'].venv_backend, funcs['lint'].venv_backend,\n"
        "      nox.virtualenv.ALL_VENVS['ghostenv'].__name__)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=clone, capture_output=True,
                          text=True, timeout=60, check=True)
    assert proc.stdout.split() == ["ghostenv", "ghostenv", "GhostenvEnv"]
    listed = _nox(clone, "-l")
    assert listed.returncode == 0, listed.stderr
    assert "* tests" in listed.stdout
    assert "* lint" in listed.stdout


@pytest.mark.network
@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("GHOSTENV_DOGFOOD") != "1",
                    reason="set GHOSTENV_DOGFOOD=1 (needs PyPI; about a minute cold)")
def test_tests_session_runs_and_reuses(clone: Path) -> None:
    first = _nox(clone, "-s", "tests", "--", "tests/test_cli.py", "-q")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "-m ghostenv install --venv" in first.stderr
    again = _nox(clone, "-r", "-s", "tests", "--", "tests/test_cli.py", "-q")
    assert again.returncode == 0, again.stdout + again.stderr
    installs = [e for e in read_events(clone / ".nox" / "tests") if e["event"] == "install"]
    assert [e["skipped"] for e in installs] == [False, True]
