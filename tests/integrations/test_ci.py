"""``ghostenv ci cache-key``: changes exactly when the cache's content should change.

The lock is a real uv lock of the fixture project (fixtures/projects/nox-basic)
against the fixture index; the interpreters are real (the test's own and
pyenv's). Also the keep-set of ``cache prune --ci`` on a real store.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_ghostenv
from tests.integrations.test_nox import FIXTURE, locked_copy, uv_lock


def key(project: Path, *args: str) -> str:
    proc = run_ghostenv("ci", "cache-key", "--project", str(project), *args, check=True)
    return proc.stdout.strip()


@pytest.fixture
def project(tmp_path: Path, fixture_index: Any, cache_dir: Path) -> Path:
    return locked_copy(FIXTURE, tmp_path / "proj", fixture_index)


def _other_python() -> str | None:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}."
    for path in sorted(root.glob("3.1*")):
        if not path.name.startswith(mine) and (path / "bin" / "python").exists():
            return str(path / "bin" / "python")
    return None


def _reformat(text: str) -> str:
    """The same lock written differently: packages reversed, spacing changed, comments added."""
    head, *packages = re.split(r"(?m)^(?=\[\[package\]\])", text)
    packages = [p.rstrip("\n") + "\n" for p in packages]
    body = "\n\n".join(reversed(packages))
    body = body.replace(" = ", "   =   ")
    return "# reformatted by hand\n" + head.rstrip("\n") + "\n\n\n" + body + "# the end\n"


def test_key_changes_exactly_when_it_should(project: Path, fixture_index: Any,
                                            tmp_path: Path) -> None:
    me = sys.executable
    base = key(project, "-p", me)
    assert re.fullmatch(r"ghostenv-[A-Za-z0-9_.]+-cp\d+-cp\d+\w*-[0-9a-f]{32}", base), base
    assert key(project, "-p", me) == base  # deterministic

    # Not otherwise: a moved project, a reformatted lock with comments, an unrelated file.
    moved = tmp_path / "elsewhere" / "proj"
    shutil.copytree(project, moved)
    assert key(moved, "-p", me) == base
    lock = project / "uv.lock"
    original = lock.read_text()
    lock.write_text(_reformat(original))
    assert lock.read_text() != original
    assert key(project, "-p", me) == base
    (project / "NOTES.txt").write_text("unrelated\n")
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text()
                                            + "\n# a comment\n")
    assert key(project, "-p", me) == base

    # A package change: alpha pinned to another version and relocked.
    lock.write_text(original)
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(
        text.replace('dependencies = ["alpha"]', 'dependencies = ["alpha==1.0.0"]'))
    uv_lock(project, fixture_index, tmp_path / "uv-cache")
    changed = key(project, "-p", me)
    assert changed != base
    # Same ABI and platform: the restore prefix still matches the old key.
    assert changed.rsplit("-", 1)[0] == base.rsplit("-", 1)[0]

    # A Python change.
    other = _other_python()
    if other is None:
        pytest.skip("no second CPython 3.1x under pyenv")
    assert key(project, "-p", other).rsplit("-", 1)[0] != changed.rsplit("-", 1)[0]


def test_github_format(project: Path) -> None:
    proc = run_ghostenv("ci", "cache-key", "--format", "github", "--project", str(project),
                        "-p", sys.executable, check=True)
    lines = dict(line.split("=", 1) for line in proc.stdout.splitlines())
    assert set(lines) == {"key", "restore-keys", "path"}
    assert lines["key"] == key(project, "-p", sys.executable)
    assert lines["key"].startswith(lines["restore-keys"])
    assert lines["path"] == os.environ["GHOSTENV_CACHE_DIR"]


def test_no_lock_is_one_clear_error(tmp_path: Path) -> None:
    proc = run_ghostenv("ci", "cache-key", "--project", str(tmp_path))
    assert proc.returncode != 0
    assert proc.stderr.startswith(f"error: {tmp_path / 'uv.lock'}: no uv.lock")
    assert "Traceback" not in proc.stderr


def test_prune_ci_keeps_the_lock_and_built_wheels(project: Path, fixture_wheels: Path,
                                                  cache_dir: Path) -> None:
    from ghostenv.integrate.ci import prune_for_ci
    from ghostenv.store import Store

    run_ghostenv("sync", "--frozen", "--python", sys.executable, "--group", "test",
                 cwd=project, check=True)
    shutil.rmtree(project / ".venv")  # no live environment protects anything now
    store = Store(cache_dir / "store")
    locked = {(m.name.lower().replace("_", "-"), m.version) for m in store.iter_manifests()}
    assert {name for name, _ in locked} == {"alpha", "beta", "gamma", "epsilon-tool"}
    assert ("alpha", "1.1.0") in locked
    store.add_wheel(next(fixture_wheels.glob("alpha-1.0.0-*.whl")))  # not in the lock
    zeta = next(fixture_wheels.glob("zeta_big-*.whl"))  # stands for a wheel built from an sdist
    built = cache_dir / "store" / "built-v1" / "ab" / "abcd" / "wheel"
    built.mkdir(parents=True)
    shutil.copy(zeta, built / zeta.name)
    store.add_wheel(built / zeta.name)

    proc = run_ghostenv("cache", "prune", "--ci", "--project", str(project),
                        "-p", sys.executable, check=True)
    assert "removed 1 wheels" in proc.stdout + proc.stderr
    left = {(m.name.lower().replace("_", "-"), m.version) for m in store.iter_manifests()}
    assert left == locked | {("zeta-big", "1.0.0")}
    assert prune_for_ci(store, project, sys.executable, cache_dir).wheels == 0  # idempotent
