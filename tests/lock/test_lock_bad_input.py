"""``ghostenv lock`` on bad input: one error line (file, place, problem), exit 1, uv.lock untouched.

Every case runs the real CLI with ``--offline`` and an index nobody listens on,
so a case that wrongly got as far as resolving would fail loudly instead of
quietly fetching.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import run_ghostenv

REPO = Path(__file__).resolve().parents[2]
HELLO = REPO / "examples" / "hello"
LOCK = (HELLO / "uv.lock").read_text(encoding="utf-8")
PYPROJECT = (HELLO / "pyproject.toml").read_text(encoding="utf-8")


def _source_line_removed(text: str) -> str:
    lines = text.splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("source = { registry"))
    del lines[index]
    return "".join(lines)


LOCK_CASES = {
    "malformed-toml": (LOCK.replace('name = "idna"', 'name = "idna', 1), "invalid TOML"),
    "version-2": (LOCK.replace("version = 1\n", "version = 2\n", 1), "unsupported schema version"),
    "no-source": (_source_line_removed(LOCK), "no `source` field"),
    "missing-dependency": (
        LOCK.replace('{ name = "idna" }', '{ name = "nosuchpkg" }', 1),
        "nosuchpkg",
    ),
}

PYPROJECT_CASES = {
    "invalid-requirement": (
        PYPROJECT.replace('"idna>=3"', '"idna>=>3"'),
        "project.dependencies[0]",
    ),
    "invalid-marker": (
        PYPROJECT.replace('"idna>=3"', "\"idna>=3; python_version >< '3'\""),
        "project.dependencies[0]",
    ),
    "malformed-toml": (PYPROJECT.replace("[project]", "[project"), "invalid TOML"),
}


def _project(tmp_path: Path, pyproject: str, lock: str) -> Path:
    root = tmp_path / "hello"
    shutil.copytree(HELLO, root, ignore=shutil.ignore_patterns(".venv"))
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    (root / "uv.lock").write_text(lock, encoding="utf-8")
    return root


def _check_failure(root: Path, args: tuple[str, ...], place: str, problem: str) -> None:
    before = (root / "uv.lock").read_bytes()
    proc = run_ghostenv("--offline", "lock", *args, "--project", str(root),
                        "--index-url", "http://127.0.0.1:9/simple/")
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert place in errors[0]
    assert problem in errors[0]
    assert (root / "uv.lock").read_bytes() == before


@pytest.mark.parametrize("case", sorted(LOCK_CASES))
@pytest.mark.parametrize("args", [(), ("--check",)])
def test_bad_lock(case: str, args: tuple[str, ...], tmp_path: Path, cache_dir: Path) -> None:
    text, problem = LOCK_CASES[case]
    root = _project(tmp_path, PYPROJECT, text)
    _check_failure(root, args, "uv.lock", problem)


@pytest.mark.parametrize("case", sorted(PYPROJECT_CASES))
def test_bad_pyproject(case: str, tmp_path: Path, cache_dir: Path) -> None:
    text, place = PYPROJECT_CASES[case]
    root = _project(tmp_path, text, LOCK)
    _check_failure(root, (), "pyproject.toml", place)


def test_bad_lock_after_a_recorded_check_is_noticed(tmp_path: Path, cache_dir: Path) -> None:
    root = _project(tmp_path, PYPROJECT, LOCK)
    run_ghostenv("lock", "--check", "--project", str(root), check=True)
    (root / "uv.lock").write_text(LOCK.replace("version = 1\n", "version = 2\n", 1))
    _check_failure(root, ("--check",), "uv.lock", "unsupported schema version")


def _refused_without_lock(root: Path, *args: str) -> str:
    """Run ``ghostenv <args> --project root`` on a project with no uv.lock; it must fail
    (exit 1) without writing one. Its stderr, for the test's own checks."""
    (root / "uv.lock").unlink()
    proc = run_ghostenv(*args, "--project", str(root))
    assert proc.returncode == 1, proc.stderr
    assert not (root / "uv.lock").exists()
    return proc.stderr


def test_missing_lock_in_check_mode(tmp_path: Path, cache_dir: Path) -> None:
    root = _project(tmp_path, PYPROJECT, LOCK)
    assert "uv.lock: not found" in _refused_without_lock(root, "lock", "--locked")


def test_check_with_upgrade_is_a_usage_error(tmp_path: Path, cache_dir: Path) -> None:
    root = _project(tmp_path, PYPROJECT, LOCK)
    proc = run_ghostenv("lock", "--check", "--upgrade", "--project", str(root))
    assert proc.returncode == 2


UV_SETTINGS = [
    'resolution = "lowest"',
    'prerelease = "allow"',
    'constraint-dependencies = ["idna<4"]',
]


@pytest.mark.parametrize("setting", UV_SETTINGS)
def test_uv_settings_it_cannot_apply_are_refused(setting: str, tmp_path: Path,
                                                  cache_dir: Path) -> None:
    root = _project(tmp_path, PYPROJECT + f"\n[tool.uv]\n{setting}\n", LOCK)
    stderr = _refused_without_lock(root, "--offline", "lock")
    assert f"[tool.uv] {setting.split(' ', maxsplit=1)[0]}" in stderr
    assert "uv lock" in stderr  # the hint names the way out


def test_dynamic_dependencies_are_refused(tmp_path: Path, cache_dir: Path) -> None:
    declared = 'dependencies = ["idna>=3", "attrs"]\n'
    text = PYPROJECT.replace(declared, 'dynamic = ["dependencies"]\n')
    root = _project(tmp_path, text, LOCK)
    assert "dynamic dependencies" in _refused_without_lock(root, "--offline", "lock")
