"""satisfies(lock, project): agrees with `uv lock --check` on unchanged and edited projects."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ghostenv.lock.read import read_lock
from ghostenv.lock.satisfies import satisfies
from ghostenv.project.read import read_project

REPO = Path(__file__).resolve().parents[2]
UV = REPO / ".venv" / "bin" / "uv"
HELLO = (REPO / "examples" / "hello" / "pyproject.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "where",
    [
        "fixtures/locks/web",
        "fixtures/locks/data",
        "fixtures/locks/big",
        "fixtures/locks/sources",
        "examples/hello",
    ],
)
def test_uv_locks_satisfy_their_projects(where: str) -> None:
    root = REPO / where
    assert satisfies(read_lock(root / "uv.lock"), read_project(root)) is None


EDITS = {
    "unchanged-but-reformatted": (
        HELLO.replace('["idna>=3", "attrs"]', '[\n  "IDNA >= 3",\n  "attrs",\n]'),
        None,
    ),
    "same-marker-other-spelling": (
        HELLO.replace('"attrs"', "\"attrs; python_version >= '3'\"").replace(
            '"idna>=3"', "\"idna>=3; platform_system != 'Windows' or sys_platform == 'win32'\""
        ),
        None,  # equal in meaning to the lock's markers (uv agrees)
    ),
    "dependency-added": (HELLO.replace('"attrs"]', '"attrs", "six"]'), "`six`"),
    "specifier-changed": (HELLO.replace("idna>=3", "idna>=3.1"), "`idna`"),
    "requires-python": (HELLO.replace(">=3.9", ">=3.10"), "requires-python"),
    "version": (HELLO.replace('version = "0.1.0"', 'version = "0.2.0"'), "version"),
    "extra-added": (HELLO + "\n[project.optional-dependencies]\ncli = []\n", "extras"),
    "group-added": (
        HELLO.replace('dev = ["iniconfig"]', 'dev = ["iniconfig"]\nlint = []'),
        "groups",
    ),
    "group-changed": (HELLO.replace('dev = ["iniconfig"]', 'dev = ["iniconfig", "six"]'), "`dev`"),
    "build-system": (
        HELLO + '\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n',
        "editable",
    ),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_edits(edit: str, tmp_path: Path) -> None:
    text, expected = EDITS[edit]
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    shutil.copy(REPO / "examples" / "hello" / "uv.lock", tmp_path / "uv.lock")
    (tmp_path / "hello.py").write_text("", encoding="utf-8")
    reason = satisfies(read_lock(tmp_path / "uv.lock"), read_project(tmp_path))
    if expected is None:
        assert reason is None
    else:
        assert reason is not None
        assert expected in reason
    if UV.exists():
        proc = subprocess.run(
            [str(UV), "lock", "--check", "--offline"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert (proc.returncode == 0) == (reason is None), proc.stderr


def test_marker_meaning_change_is_caught(tmp_path: Path) -> None:
    text = HELLO.replace('"attrs"', "\"attrs; python_version < '3.12'\"")
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    reason = satisfies(read_lock(REPO / "examples" / "hello" / "uv.lock"), read_project(tmp_path))
    assert reason is not None
    assert "`attrs`" in reason


def _workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(REPO / "fixtures" / "locks" / "workspace", root)
    return root


def test_workspace_satisfied(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    assert satisfies(read_lock(root / "uv.lock"), read_project(root)) is None


def test_workspace_member_added(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    shutil.copytree(root / "packages" / "libb", root / "packages" / "libc")
    text = (root / "packages" / "libc" / "pyproject.toml").read_text(encoding="utf-8")
    (root / "packages" / "libc" / "pyproject.toml").write_text(
        text.replace('name = "libb"', 'name = "libc"'), encoding="utf-8"
    )
    reason = satisfies(read_lock(root / "uv.lock"), read_project(root))
    assert reason is not None
    assert "workspace members changed" in reason


def test_workspace_member_dependency_changed(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    path = root / "packages" / "libb" / "pyproject.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("idna>=3.7", "idna>=3.8"), "utf-8")
    reason = satisfies(read_lock(root / "uv.lock"), read_project(root))
    assert reason is not None
    assert "`libb`" in reason
