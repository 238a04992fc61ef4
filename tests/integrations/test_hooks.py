"""``ghostenv hooks``: git hooks installed next to existing ones, and a real checkout resyncing.

The repositories are real (``git init`` in tmp_path), the hooks run because
git runs them, and the environment is synced by the real ``ghostenv sync``
from a uv.lock written by the real ``uv lock`` against the fixture index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, run_ghostenv

UV = Path(sys.executable).parent / "uv"
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}


def _git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False,
                          env={**os.environ, **GIT_ENV, **(env or {})})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    return root


def _hooks(root: Path) -> Path:
    return root / ".git" / "hooks"


def test_scripts_in_hooks_dir_are_current() -> None:
    for name in ("post-checkout", "post-merge", "post-rewrite"):
        shown = run_ghostenv("hooks", "show", "--hook", name, check=True).stdout
        assert (REPO / "hooks" / name).read_text() == shown, f"regenerate hooks/{name}"
        assert os.access(REPO / "hooks" / name, os.X_OK)


def test_install_and_uninstall_in_a_clean_repo(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    proc = run_ghostenv("hooks", "install", cwd=root, check=True)
    assert "post-checkout: installed" in proc.stderr
    for name in ("post-checkout", "post-merge", "post-rewrite"):
        hook = _hooks(root) / name
        assert os.access(hook, os.X_OK)
        assert sys.executable in hook.read_text()  # this interpreter's ghostenv, not PATH's
    again = run_ghostenv("hooks", "install", cwd=root, check=True)
    assert "post-checkout: updated" in again.stderr
    assert not list(_hooks(root).glob("*.pre-ghostenv")), "reinstall must not chain itself"
    run_ghostenv("hooks", "uninstall", cwd=root, check=True)
    assert not [p for p in _hooks(root).iterdir() if not p.name.endswith(".sample")]


def test_existing_hook_is_chained_and_restored(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    original = "#!/bin/sh\necho \"user hook $*\" >> \"$(git rev-parse --git-dir)/user.log\"\n"
    hook = _hooks(root) / "post-checkout"
    hook.write_text(original)
    hook.chmod(0o755)
    proc = run_ghostenv("hooks", "install", "--hook", "post-checkout", cwd=root, check=True)
    assert "runs the existing hook first" in proc.stderr
    assert (_hooks(root) / "post-checkout.pre-ghostenv").read_text() == original
    (root / "f").write_text("x")
    _git(root, "add", "f")
    _git(root, "commit", "-q", "-m", "one")
    _git(root, "checkout", "-q", "-b", "other")
    log = (root / ".git" / "user.log").read_text()
    assert log.strip().endswith(" 1"), "the user's hook ran with git's arguments"
    run_ghostenv("hooks", "uninstall", cwd=root, check=True)
    assert hook.read_text() == original
    assert os.access(hook, os.X_OK)
    assert not (_hooks(root) / "post-checkout.pre-ghostenv").exists()


def test_refuses_when_both_names_are_taken(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    for name in ("post-merge", "post-merge.pre-ghostenv"):
        (_hooks(root) / name).write_text("#!/bin/sh\nexit 0\n")
    proc = run_ghostenv("hooks", "install", cwd=root)
    assert proc.returncode == 2
    assert "refusing to overwrite" in proc.stderr
    assert "hint:" in proc.stderr
    assert not (_hooks(root) / "post-checkout").exists(), "nothing half-installed"
    outside = run_ghostenv("hooks", "install", cwd=tmp_path)
    assert outside.returncode == 2
    assert "not inside a git repository" in outside.stderr


def test_hooks_path_config_is_honoured(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _git(root, "config", "core.hooksPath", ".githooks")
    run_ghostenv("hooks", "install", cwd=root, check=True)
    assert (root / ".githooks" / "post-checkout").is_file()
    assert not (_hooks(root) / "post-checkout").exists()


def _installed(env: Path) -> dict[str, str]:
    code = ("import importlib.metadata as m, json; "
            "print(json.dumps({d.metadata['Name'].lower(): d.version "
            "for d in m.distributions()}))")
    out = subprocess.run([str(env / "bin" / "python"), "-c", code], capture_output=True,
                         text=True, check=True).stdout
    return dict(json.loads(out))


def _lock(root: Path, index: Any, deps: str) -> None:
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "hooked"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        f"dependencies = [{deps}]\n\n[tool.uv]\npackage = false\n")
    proc = subprocess.run(
        [str(UV), "lock", "--no-config", "--index-url", index.simple_url, "--python",
         sys.executable, "--cache-dir", str(root.parent / "uv-cache")],
        cwd=root, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr


def test_checkout_and_merge_resync_the_environment(tmp_path: Path, fixture_index: Any) -> None:
    if not UV.exists():
        pytest.skip("uv is not installed next to the test interpreter")
    root = _repo(tmp_path)
    env = {"GHOSTENV_CACHE_DIR": str(tmp_path / "cache"), "UV_PROJECT_ENVIRONMENT": ""}
    (root / ".gitignore").write_text(".venv/\n")
    _lock(root, fixture_index, '"beta==1.0.0"')
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "beta 1.0")
    _git(root, "checkout", "-q", "-b", "newer")
    _lock(root, fixture_index, '"beta==1.2.0", "gamma"')
    _git(root, "commit", "-q", "-am", "beta 1.2 + gamma")
    _git(root, "checkout", "-q", "main")
    run_ghostenv("hooks", "install", cwd=root, env=env, check=True)
    run_ghostenv("sync", "--frozen", "--python", sys.executable, cwd=root, env=env, check=True)
    assert _installed(root / ".venv")["beta"] == "1.0.0"

    out = _git(root, "checkout", "newer", env=env)  # post-checkout
    assert "sync failed" not in out, out
    have = _installed(root / ".venv")
    assert have["beta"] == "1.2.0"
    assert "gamma" in have
    _git(root, "checkout", "-q", "main", env=env)
    assert _installed(root / ".venv")["beta"] == "1.0.0"
    assert "gamma" not in _installed(root / ".venv")

    _git(root, "merge", "-q", "--ff-only", "newer", env=env)  # post-merge
    assert _installed(root / ".venv")["beta"] == "1.2.0"

    _lock(root, fixture_index, '"beta==0.9.0"')
    _git(root, "commit", "-q", "--amend", "-am", "beta 0.9 after all", env=env)  # post-rewrite
    assert _installed(root / ".venv")["beta"] == "0.9.0"

    # a checkout that does not touch the lock does not start ghostenv at all ...
    quiet = _git(root, "checkout", "-b", "same", env={**env, "GHOSTENV": "false"})
    assert "sync failed" not in quiet
    # ... one that does runs it, and a failing sync warns without failing the checkout
    loud = _git(root, "checkout", "HEAD~1", env={**env, "GHOSTENV": "false"})
    assert "ghostenv: post-checkout: sync failed (exit 1)" in loud


def test_hooks_sync_is_a_no_op_without_a_lock(tmp_path: Path) -> None:
    proc = run_ghostenv("hooks", "sync", "--project", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
    (tmp_path / "uv.lock").write_text("version = 99\n")  # with a lock it really syncs
    broken = run_ghostenv("hooks", "sync", "--project", str(tmp_path))
    assert broken.returncode != 0
    assert "uv.lock" in broken.stderr
