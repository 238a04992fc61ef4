"""`ghostenv export` through the real CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import run_ghostenv

REPO = Path(__file__).resolve().parents[2]


def test_export_prints_pinned_requirements(tmp_path: Path) -> None:
    shutil.copy(REPO / "examples" / "hello" / "uv.lock", tmp_path / "uv.lock")
    proc = run_ghostenv("export", cwd=tmp_path, check=True)
    assert "idna==3.20 \\\n    --hash=sha256:" in proc.stdout
    assert "iniconfig==" in proc.stdout
    proc = run_ghostenv("export", "--no-dev", "--no-hashes", cwd=tmp_path, check=True)
    assert "iniconfig" not in proc.stdout
    assert "--hash" not in proc.stdout


def test_export_to_file(tmp_path: Path) -> None:
    shutil.copy(REPO / "examples" / "hello" / "uv.lock", tmp_path / "uv.lock")
    run_ghostenv("export", "-o", "requirements.txt", cwd=tmp_path, check=True)
    assert (tmp_path / "requirements.txt").read_text(encoding="utf-8").startswith("# This file")


def test_export_bad_lock_is_one_error(tmp_path: Path) -> None:
    text = (REPO / "examples" / "hello" / "uv.lock").read_text(encoding="utf-8")
    (tmp_path / "uv.lock").write_text(text.replace("version = 1", "version = 2", 1), "utf-8")
    proc = run_ghostenv("export", cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[0] == (
        "error: uv.lock:1: `version`: unsupported schema version (v2, but only v1 is supported)"
    )
    assert lines[1].startswith("hint: ")
