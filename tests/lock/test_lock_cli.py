"""``ghostenv lock`` end to end on the fixture index: preferences, upgrades, no churn, export."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ghostenv.lock.current import lock_is_current
from ghostenv.lock.read import read_lock
from tests.conftest import run_ghostenv

PYPROJECT = """\
[project]
name = "pref"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["beta<1.2", "gamma"]

[project.optional-dependencies]
tool = ["epsilon-tool; sys_platform != 'win32'"]

[dependency-groups]
dev = ["alpha"]

[[tool.uv.index]]
name = "fixtures"
url = "{url}"
default = true
"""


@pytest.fixture
def project(tmp_path: Path, fixture_index: Any, cache_dir: Path) -> Path:
    root = tmp_path / "pref"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT.format(url=fixture_index.simple_url))
    return root


def _lock(root: Path, *args: str) -> str:
    proc = run_ghostenv("lock", "--project", str(root), *args)
    if "universal resolution is being written" in proc.stderr:
        pytest.skip("resolve_universal is not implemented yet")
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def _versions(root: Path) -> dict[str, str | None]:
    return {p.name: p.version for p in read_lock(root / "uv.lock").packages}


def test_locked_versions_are_preferences(project: Path) -> None:
    _lock(project)
    assert _versions(project)["beta"] == "1.0.0"  # 1.1.0 is yanked
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"beta<1.2"', '"beta"'))
    assert "changed" in _lock(project)
    assert _versions(project)["beta"] == "1.0.0"  # still allowed: kept
    _lock(project, "--upgrade-package", "gamma")
    assert _versions(project)["beta"] == "1.0.0"
    _lock(project, "--upgrade-package", "beta")
    assert _versions(project)["beta"] == "1.2.0"
    pyproject.write_text(pyproject.read_text().replace('"beta"', '"beta<1.2"'))
    _lock(project)
    assert _versions(project)["beta"] == "1.0.0"
    pyproject.write_text(pyproject.read_text().replace('"beta<1.2"', '"beta"'))
    _lock(project, "--upgrade")  # drops every preference
    assert _versions(project)["beta"] == "1.2.0"


def test_no_rewrite_when_nothing_changes(project: Path, cache_dir: Path) -> None:
    _lock(project)
    lock = project / "uv.lock"
    before = lock.stat()
    text = lock.read_bytes()
    assert "up to date" in _lock(project)
    assert "up to date" in _lock(project, "--upgrade")  # same answer: file left alone
    assert "up to date" in _lock(project, "--refresh")
    after = lock.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert lock.read_bytes() == text
    assert lock_is_current(project, cache_dir)


def test_hand_formatted_equivalent_lock_is_left_alone(project: Path) -> None:
    _lock(project)
    lock = project / "uv.lock"
    # same data, other spelling: reordered keys would be too much for a test; use spacing
    text = lock.read_text().replace('version = "0.1.0"', 'version   =   "0.1.0"')
    lock.write_text(text)
    assert "up to date" in _lock(project, "--upgrade")
    assert lock.read_text() == text


def test_export_of_a_written_lock(project: Path) -> None:
    _lock(project)
    default = run_ghostenv("export", "--project", str(project), check=True).stdout
    assert "alpha==" in default  # dev group on by default
    assert "--hash=sha256:" in default
    assert "epsilon-tool" not in default
    assert "\nbeta==1.0.0" in "\n" + default
    no_dev = run_ghostenv("export", "--project", str(project), "--no-dev", "--no-hashes",
                          check=True).stdout
    assert "alpha==" not in no_dev
    assert "--hash" not in no_dev
    extra = run_ghostenv("export", "--project", str(project), "--extra", "tool",
                         "--format", "requirements-txt", check=True).stdout
    assert "epsilon-tool==1.0.0 ; sys_platform != 'win32'" in extra
    group = run_ghostenv("export", "--project", str(project), "--no-dev", "--group", "dev",
                         check=True).stdout
    assert "alpha==" in group


def test_offline_relock_from_the_cache(project: Path, cache_dir: Path) -> None:
    _lock(project)
    first = (project / "uv.lock").read_bytes()
    (project / "uv.lock").unlink()
    proc = run_ghostenv("--offline", "lock", "--project", str(project))
    assert proc.returncode == 0, proc.stderr
    assert (project / "uv.lock").read_bytes() == first
    (project / "uv.lock").unlink()
    import shutil

    shutil.rmtree(cache_dir)
    cold = run_ghostenv("--offline", "lock", "--project", str(project))
    assert cold.returncode == 1
    assert "not in the cache" in cold.stderr
    assert not (project / "uv.lock").exists()


def test_failed_resolution_leaves_the_lock(project: Path) -> None:
    _lock(project)
    before = (project / "uv.lock").read_bytes()
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"gamma"', '"gamma>=9"'))
    proc = run_ghostenv("lock", "--project", str(project))
    assert proc.returncode == 1
    assert "gamma" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (project / "uv.lock").read_bytes() == before
    assert run_ghostenv("lock", "--check", "--project", str(project)).returncode == 1


def test_a_lock_from_another_index_is_not_current(project: Path) -> None:
    _lock(project)
    assert run_ghostenv("lock", "--check", "--project", str(project)).returncode == 0
    other = run_ghostenv("lock", "--check", "--project", str(project),
                         "--index-url", "http://127.0.0.1:9/simple/")
    assert other.returncode == 1
    assert "not a configured index" in other.stderr
    # an environment default (a CI mirror) is not a request to re-lock: still satisfied
    env = run_ghostenv("lock", "--check", "--project", str(project),
                       env={"UV_INDEX_URL": "http://127.0.0.1:9/simple/"})
    assert env.returncode == 0, env.stderr
    # the project's own index changed: that is
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(re.sub(r'url = "[^"]*"', 'url = "http://127.0.0.1:9/simple/"', text))
    moved = run_ghostenv("lock", "--check", "--project", str(project))
    assert moved.returncode == 1
    assert "not a configured index" in moved.stderr
    pyproject.write_text(text)
    # the project's own index is still fine, fingerprint and all
    assert run_ghostenv("lock", "--check", "--project", str(project)).returncode == 0


def test_check_refresh_re_resolves(project: Path) -> None:
    _lock(project)
    lock = project / "uv.lock"
    text = lock.read_text()
    assert run_ghostenv("lock", "--check", "--refresh", "--project", str(project)).returncode == 0
    # a tampered hash is invisible to the fast check, not to the strict one (spec §10)
    tampered = re.sub(r"sha256:[0-9a-f]{6}", "sha256:000000", text, count=1)
    lock.write_text(tampered)
    assert run_ghostenv("lock", "--check", "--project", str(project)).returncode == 0
    strict = run_ghostenv("lock", "--check", "--refresh", "--project", str(project))
    assert strict.returncode == 1
    assert "re-resolving" in strict.stderr
    assert lock.read_text() == tampered
