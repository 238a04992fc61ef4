"""The "already up to date" fingerprint: recorded only for checked bytes, and never stale."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ghostenv.lock import current
from ghostenv.lock.current import forget, lock_is_current, record_current
from tests.conftest import run_ghostenv

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "web"
    shutil.copytree(REPO / "fixtures" / "locks" / "web", root)
    return root


def _verified(root: Path) -> dict[str, bytes]:
    return {n: (root / n).read_bytes() for n in ("pyproject.toml", "uv.lock")}


def _age(path: Path, seconds: float = 60) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_unknown_until_recorded(project: Path, cache_dir: Path) -> None:
    assert not lock_is_current(project, cache_dir)
    assert record_current(project, _verified(project), cache_dir)
    assert lock_is_current(project, cache_dir)
    forget(project, cache_dir)
    assert not lock_is_current(project, cache_dir)


def test_edit_is_noticed_even_within_the_same_tick(project: Path, cache_dir: Path) -> None:
    record_current(project, _verified(project), cache_dir)
    text = (project / "pyproject.toml").read_text()
    # same size, same mtime: only the hash can tell
    stat = (project / "pyproject.toml").stat()
    (project / "pyproject.toml").write_text(text.replace('"rich"', '"Rich"'))
    os.utime(project / "pyproject.toml", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert not lock_is_current(project, cache_dir)


def test_touch_without_change_is_still_current(project: Path, cache_dir: Path) -> None:
    for name in ("pyproject.toml", "uv.lock"):
        _age(project / name)
    record_current(project, _verified(project), cache_dir)
    state = next((cache_dir / "lock-state").iterdir()).read_text()
    assert " - - - - " not in state  # settled files: the stat alone answers next time
    (project / "uv.lock").touch()
    assert lock_is_current(project, cache_dir)  # hash equal after the stat changed


def test_lock_edited_after_the_check_is_not_recorded(project: Path, cache_dir: Path) -> None:
    checked = _verified(project)
    (project / "uv.lock").write_bytes(checked["uv.lock"] + b"\n# edited\n")
    assert not record_current(project, checked, cache_dir)
    assert not lock_is_current(project, cache_dir)


def test_deleted_lock_is_not_current(project: Path, cache_dir: Path) -> None:
    record_current(project, _verified(project), cache_dir)
    (project / "uv.lock").unlink()
    assert not lock_is_current(project, cache_dir)


def test_corrupt_state_is_not_current(project: Path, cache_dir: Path) -> None:
    record_current(project, _verified(project), cache_dir)
    state = next((cache_dir / "lock-state").iterdir())
    state.write_text(state.read_text().replace(" uv.lock", ""))
    assert not lock_is_current(project, cache_dir)
    state.write_bytes(b"\xff\xfe")
    assert not lock_is_current(project, cache_dir)


def test_stdlib_only_and_fast(project: Path, cache_dir: Path) -> None:
    for name in ("pyproject.toml", "uv.lock"):
        _age(project / name)
    record_current(project, _verified(project), cache_dir)
    code = (
        "import sys, time; t = time.perf_counter();"
        "from ghostenv.lock.current import lock_is_current as f;"
        f"ok = f({str(project)!r}, {str(cache_dir)!r});"
        "ms = (time.perf_counter() - t) * 1000;"
        "bad = [m for m in ('packaging', 'tomllib', 'httpx', 'json') if m in sys.modules];"
        "print(ok, bad, ms)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split(" ", 2)
    assert out[0] == "True"
    assert out[1].strip() == "[]"
    assert float(out[2]) < 20, out


def test_cli_up_to_date_then_changed(project: Path, cache_dir: Path) -> None:
    before = (project / "uv.lock").read_bytes()
    first = run_ghostenv("lock", "--check", "--project", str(project), check=True)
    assert "up to date" in first.stderr + first.stdout
    assert lock_is_current(project, cache_dir)
    again = run_ghostenv("lock", "--project", str(project), check=True)
    assert "up to date" in again.stderr + again.stdout
    assert (project / "uv.lock").read_bytes() == before
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"click"', '"click>=8.1"'))
    failed = run_ghostenv("lock", "--check", "--project", str(project))
    assert failed.returncode == 1
    assert "needs to be updated" in failed.stderr
    assert "`click`" in failed.stderr
    assert not lock_is_current(project, cache_dir)
    assert (project / "uv.lock").read_bytes() == before


def test_format_is_versioned(project: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
                             ) -> None:
    record_current(project, _verified(project), cache_dir)
    monkeypatch.setattr(current, "_version", lambda: "999")
    assert not lock_is_current(project, cache_dir)


def test_fast_main_answers_only_what_it_knows(project: Path, cache_dir: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from ghostenv.lock.current import fast_main

    args = ["lock", "--project", str(project)]
    assert fast_main(args) is None  # not known current: the full command decides
    record_current(project, _verified(project), cache_dir)
    assert fast_main(args) == 0
    assert "up to date" in capsys.readouterr().err
    assert fast_main(["lock", "--check", f"--project={project}"]) == 0
    assert fast_main([*args, "--upgrade"]) is None
    assert fast_main([*args, "-q"]) is None
    assert fast_main(["sync", "--project", str(project)]) is None


@pytest.mark.parametrize("env", [{}, {"GHOSTENV_CACHE_DIR": "~/x"}, {"XDG_CACHE_HOME": "/xdg"},
                                 {"XDG_CACHE_HOME": "relative"}])
def test_default_cache_dir_matches_paths(env: dict[str, str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from ghostenv.lock.current import default_cache_dir
    from ghostenv.paths import user_cache_dir

    for name in ("GHOSTENV_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Path(default_cache_dir()) == user_cache_dir()
