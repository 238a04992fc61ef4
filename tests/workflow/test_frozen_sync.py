"""``sync --frozen`` through the stdlib fast path makes the environment the full path makes.

A real uv.lock (uv against the fixture index) with markers, extras and groups;
the store is filled once, then each selection is synced twice into separate
environments -- by the fast path (``python -m ghostenv sync --frozen ...``) and
by the full path (``GHOSTENV_NO_GATE=1``, argparse and packaging) -- and the two
trees must hold the same files, the same RECORDs and the same pyvenv.cfg. The
fast run must not import packaging (else it was not the fast path), and its
gate record must make the next sync a no-op.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.workflow.test_sync import _lock

PYPROJECT = """\
[project]
name = "demo-fast"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["alpha[docs]", "gamma; sys_platform == 'win32'"]

[project.optional-dependencies]
tool = ["epsilon-tool; python_version >= '3.8'"]

[dependency-groups]
dev = ["gamma"]
lint = [{include-group = "dev"}, "epsilon-tool"]
"""


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory, fixture_index: Any) -> Path:
    root = tmp_path_factory.mktemp("frozen") / "demo-fast"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    _lock(root, fixture_index, root.parent)
    cache = root.parent / "cache"
    warm = _sync(root, cache, ".venv-warm", "--all-groups", "--all-extras", full=True)
    assert warm.returncode == 0, warm.stderr
    return root


def _sync(project: Path, cache: Path, env_name: str, *args: str, full: bool = False,
          importtime: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GHOSTENV_CACHE_DIR": str(cache),
           "GHOSTENV_PROJECT_ENVIRONMENT": env_name}
    env.pop("FORCE_COLOR", None)
    if full:
        env["GHOSTENV_NO_GATE"] = "1"
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run(
        [sys.executable, *flags, "-m", "ghostenv", "sync", "--frozen", "--python",
         sys.executable, *args], cwd=project, env=env, capture_output=True, text=True,
        timeout=300, check=False)


def _imported(stderr: str) -> list[str]:
    """Module names from ``-X importtime`` output."""
    return [line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines()
            if line.startswith("import time:")]


def _tree(env: Path) -> dict[str, str]:
    """Every file and link under ``env`` (bar caches and the gate record) -> its content,
    with the environment's own path replaced so two environments compare."""
    out: dict[str, str] = {}
    for path in sorted(env.rglob("*")):
        rel = path.relative_to(env).as_posix()
        if "__pycache__" in rel or rel.startswith(".ghostenv-gate") or path.is_dir():
            continue
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path).replace(str(env), "ENV")
        else:
            text = path.read_bytes().decode("utf-8", "replace").replace(str(env), "ENV")
            if rel.endswith(".dist-info/RECORD"):  # scripts hold the env's path: hashes differ
                text = "\n".join(_drop_hash(line) if line.startswith("../") else line
                                 for line in text.splitlines())
            out[rel] = text
    return out


def _drop_hash(line: str) -> str:
    path, _digest, size = line.rsplit(",", 2)
    return f"{path},,{size}"


@pytest.mark.parametrize("args", [
    (),
    ("--no-dev",),
    ("--extra", "tool", "--no-default-groups"),
    ("--group", "lint"),
    ("--all-groups", "--all-extras"),
    ("--group", "Lint", "--no-default-groups"),  # spelled otherwise than in uv.lock
], ids=lambda a: " ".join(a) or "default")
def test_fast_path_makes_the_full_paths_environment(locked: Path, args: tuple[str, ...]) -> None:
    cache = locked.parent / "cache"
    name = "-".join(a.strip("-") for a in args) or "default"
    fast = _sync(locked, cache, f".venv-fast-{name}", *args, importtime=True)
    assert fast.returncode == 0, fast.stderr
    imported = _imported(fast.stderr)
    assert "ghostenv.workflow.frozen" in imported
    assert not [m for m in imported if m.startswith(("packaging", "argparse", "ghostenv.lock.model",
                                                      "ghostenv.cli.main"))], imported
    # nor pathlib/json/re: with what they pull in (fnmatch, urllib.parse, ipaddress, the
    # regex compiler) ~8 ms of a ~50 ms sync
    lean = {"pathlib", "json", "re", "fnmatch", "urllib.parse", "typing", "dataclasses",
            "hashlib"}
    assert not lean.intersection(imported), lean.intersection(imported)
    full = _sync(locked, cache, f".venv-full-{name}", *args, full=True)
    assert full.returncode == 0, full.stderr
    fast_tree = _tree(locked / f".venv-fast-{name}")
    full_tree = _tree(locked / f".venv-full-{name}")
    assert fast_tree == full_tree
    assert any(rel.endswith("/RECORD") for rel in fast_tree)
    if "Lint" in args:
        assert any("epsilon_tool-" in rel for rel in fast_tree)

    again = _sync(locked, cache, f".venv-fast-{name}", *args)
    assert again.returncode == 0, again.stderr
    assert again.stderr.startswith("Audited "), again.stderr


def test_marker_outside_the_subset_falls_back_to_the_full_path(locked: Path,
                                                                tmp_path: Path) -> None:
    """An alias (``sys.platform``) is left to packaging: same environment, via the full path."""
    import shutil

    root = tmp_path / "demo-alias"
    shutil.copytree(locked, root, ignore=shutil.ignore_patterns(".venv*"))
    lock = root / "uv.lock"
    text = lock.read_text()
    assert "marker = \"sys_platform == 'win32'\"" in text
    lock.write_text(text.replace("marker = \"sys_platform == 'win32'\"",
                                 "marker = \"sys.platform == 'win32'\""))
    cache = locked.parent / "cache"
    proc = _sync(root, cache, ".venv", importtime=True)
    assert proc.returncode == 0, proc.stderr
    assert "packaging.markers" in _imported(proc.stderr)  # the full path ran
    fresh = _sync(locked, cache, ".venv-fast-plain")
    assert fresh.returncode == 0, fresh.stderr
    assert _tree(root / ".venv").keys() == _tree(locked / ".venv-fast-plain").keys()
    check = _sync(root, cache, ".venv", "--check")
    assert check.stdout.strip() == "fresh", check.stdout


def test_a_verified_lock_takes_the_fast_path_without_frozen(locked: Path, tmp_path: Path,
                                                            fixture_index: Any) -> None:
    """Without --frozen, the first sync checks the lock (full path) and records that it is
    current; the next sync of a fresh environment reads it on the fast path."""
    import shutil

    root = tmp_path / "demo-checked"
    shutil.copytree(locked, root, ignore=shutil.ignore_patterns(".venv*"))
    cache = locked.parent / "cache"
    env = {**os.environ, "GHOSTENV_CACHE_DIR": str(cache),
           "GHOSTENV_INDEX_URL": fixture_index.simple_url}
    env.pop("FORCE_COLOR", None)

    def sync() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-X", "importtime", "-m", "ghostenv", "sync",
                               "--python", sys.executable], cwd=root, env=env,
                              capture_output=True, text=True, timeout=300, check=False)

    first = sync()
    assert first.returncode == 0, first.stderr
    assert "packaging.specifiers" in _imported(first.stderr)  # checked for real
    files = _tree(root / ".venv")
    shutil.rmtree(root / ".venv")
    second = sync()
    assert second.returncode == 0, second.stderr
    assert not [m for m in _imported(second.stderr) if m.startswith("packaging")]
    assert _tree(root / ".venv") == files
    (root / "pyproject.toml").write_text(PYPROJECT.replace('"gamma"]', '"gamma", "beta"]'))
    shutil.rmtree(root / ".venv")
    third = sync()  # the lock no longer vouched for: the full path re-checks (and re-locks)
    assert third.returncode == 0, third.stderr
    assert "packaging.specifiers" in _imported(third.stderr)
    assert "Locked uv.lock" in third.stderr


def test_only_the_real_entry_point_leaves_early(locked: Path) -> None:
    """``main()`` called with arguments (an importer) gets the exit code back; the gate record
    and summary of a fast exit are complete (checked through the CLI above)."""
    cache = locked.parent / "cache"
    env = {**os.environ, "GHOSTENV_CACHE_DIR": str(cache),
           "GHOSTENV_PROJECT_ENVIRONMENT": ".venv-inprocess"}
    code = ("import sys; from ghostenv.entry import main; "
            f"rc = main(['sync', '--frozen', '--python', {sys.executable!r}]); "
            "print('returned', rc)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=locked, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "returned 0\n"
    assert proc.stderr.startswith("Installed "), proc.stderr


GROUPS = """\
[project]
name = "demo-groups"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["beta"]

[dependency-groups]
dev = ["gamma"]
lint = ["epsilon-tool"]
"""


@pytest.fixture(scope="module")
def grouped(tmp_path_factory: pytest.TempPathFactory, fixture_index: Any) -> Path:
    root = tmp_path_factory.mktemp("groups") / "demo-groups"
    root.mkdir()
    (root / "pyproject.toml").write_text(GROUPS)
    _lock(root, fixture_index, root.parent)
    return root


@pytest.mark.parametrize(("setting", "args", "want"), [
    ('default-groups = ["lint"]', (), {"beta", "epsilon-tool"}),
    ('default-groups = ["lint"]', ("--no-default-groups",), {"beta"}),
    ('default-groups = "all"', ("--no-dev",), {"beta", "epsilon-tool"}),  # only dev goes
    ('default-groups = "all"', (), {"beta", "epsilon-tool", "gamma"}),
    ("", (), {"beta", "gamma"}),
    ("", ("--all-groups", "--no-dev"), {"beta", "epsilon-tool"}),  # uv: --no-dev always wins
    ("", ("--group", "dev", "--no-dev"), {"beta"}),
])
def test_default_groups_as_uv(grouped: Path, tmp_path: Path, setting: str,
                              args: tuple[str, ...], want: set[str]) -> None:
    """``[tool.uv] default-groups`` (a list or "all"), on both paths, as uv reads it."""
    import shutil

    root = tmp_path / "demo-groups"
    shutil.copytree(grouped, root)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f"\n[tool.uv]\n{setting}\n")
    cache = grouped.parent / "cache"  # shared by the cases: the first one downloads
    fast = _sync(root, cache, ".venv-fast", *args, importtime=True)
    assert fast.returncode == 0, fast.stderr
    assert "ghostenv.workflow.frozen" in _imported(fast.stderr)
    full = _sync(root, cache, ".venv-full", *args, full=True)
    assert full.returncode == 0, full.stderr
    fast_tree = _tree(root / ".venv-fast")
    assert fast_tree == _tree(root / ".venv-full")
    names = {rel.split("/")[-2].split("-")[0].lower().replace("_", "-") for rel in fast_tree
             if rel.endswith(".dist-info/RECORD")}
    assert names == want
