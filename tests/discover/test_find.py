"""The finder against the real pyenv interpreters on this machine."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ghostenv.discover import find_interpreter, list_interpreters
from ghostenv.discover.probe import cache_file
from ghostenv.errors import InterpreterError
from tests.conftest import run_ghostenv


def _pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def _pyenv(version_prefix: str) -> Path:
    versions = _pyenv_root() / "versions"
    for entry in sorted(versions.glob(f"{version_prefix}.*")) if versions.is_dir() else []:
        exe = entry / "bin" / "python"
        if exe.exists():
            return exe
    pytest.skip(f"pyenv has no Python {version_prefix}")


MODERN = ["3.9", "3.10", "3.11", "3.12", "3.13"]


@pytest.mark.parametrize("minor", MODERN)
def test_find_by_version_probes_real_interpreter(minor: str, cache_dir: Path) -> None:
    exe = _pyenv(minor)
    interp = find_interpreter(str(exe), cache_dir)
    assert interp.python_version == minor
    assert interp.implementation == "cpython"
    assert interp.paths["purelib"] == f"lib/python{minor}/site-packages"
    assert interp.markers["python_version"] == minor
    tags = [str(t) for t in interp.tags()]
    nodot = minor.replace(".", "")
    assert tags[0].startswith(f"cp{nodot}-cp{nodot}")
    assert f"py{nodot[0]}-none-any" in tags
    # And by version request, through the search order.
    assert find_interpreter(minor, cache_dir).python_version == minor


@pytest.mark.parametrize("old", ["2.7", "3.6"])
def test_too_old_is_reported_not_used(old: str, cache_dir: Path) -> None:
    exe = _pyenv(old)
    with pytest.raises(InterpreterError, match="older than ghostenv supports"):
        find_interpreter(str(exe), cache_dir)
    interp = find_interpreter(str(exe), cache_dir, allow_unsupported=True)
    assert interp.python_version == old  # the 2.7-safe probe really ran
    listed = [c.interpreter for c in list_interpreters(cache_dir) if c.interpreter]
    assert any(i.path == exe and not i.supported for i in listed)


def test_requests_select_matching_interpreter(cache_dir: Path) -> None:
    _pyenv("3.11")
    assert find_interpreter("cpython@3.11", cache_dir).python_version == "3.11"
    assert find_interpreter("cpython3.11", cache_dir).version[:2] == (3, 11)
    spec = find_interpreter(">=3.12", cache_dir)
    assert spec.version >= (3, 12)
    exact = _pyenv("3.12")
    full = find_interpreter(str(exact), cache_dir).version_str
    assert find_interpreter(full, cache_dir).version_str == full


def test_no_match_lists_what_was_found(cache_dir: Path) -> None:
    with pytest.raises(InterpreterError) as info:
        find_interpreter("4.7", cache_dir)
    assert "4.7" in info.value.message
    assert info.value.hint
    assert "cpython-3." in info.value.hint
    with pytest.raises(InterpreterError, match="no Python interpreter matches"):
        find_interpreter("pypy@3.99", cache_dir)


def test_second_find_uses_cache_file(cache_dir: Path, tmp_path: Path) -> None:
    exe = _pyenv("3.12")
    first = find_interpreter(str(exe), cache_dir)
    entry = cache_file(cache_dir, str(exe))
    assert entry.exists()
    # Tamper with the cached record: a second find must answer from it, not re-probe.
    data = json.loads(entry.read_text())
    data["probe"]["platform"] = "from-the-cache"
    entry.write_text(json.dumps(data))
    second = find_interpreter(str(exe), cache_dir)
    assert second.platform == "from-the-cache"
    assert first.platform != "from-the-cache"
    # A changed fingerprint (different file behind the path) invalidates the record.
    data["key"][2] = 1
    entry.write_text(json.dumps(data))
    assert find_interpreter(str(exe), cache_dir).platform == first.platform


def test_broken_symlink_and_non_python_skipped_with_reason(
        cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3.99").symlink_to(tmp_path / "missing")
    fake = bindir / "python"
    fake.write_text("#!/bin/sh\necho not python\n")
    fake.chmod(0o755)
    real = _pyenv("3.12")
    (bindir / "python3").symlink_to(real)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    by_path = {c.path: c for c in list_interpreters(cache_dir)}
    assert by_path[bindir / "python3.99"].skipped == "broken symlink"
    assert "not a Python" in by_path[fake].skipped
    assert by_path[bindir / "python3"].interpreter is not None
    # PATH order wins: the symlink in our first PATH dir is what "3.12" finds.
    assert find_interpreter("3.12", cache_dir).path == bindir / "python3"
    proc = run_ghostenv("python", "list", "-v", env={"PATH": os.environ["PATH"]})
    assert "broken symlink" in proc.stderr
    assert "not a Python" in proc.stderr


def test_active_virtual_env_comes_first(cache_dir: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from ghostenv.materialize.venv import create_venv

    base = find_interpreter(str(_pyenv("3.10")), cache_dir)
    venv = create_venv(tmp_path / "env", base)
    monkeypatch.setenv("VIRTUAL_ENV", str(venv.root))
    found = find_interpreter(None, cache_dir)
    assert found.path == venv.python
    assert found.is_virtualenv
    assert found.prefix == venv.root
    assert found.base_executable.resolve() == base.base_executable.resolve()


def test_cli_find_json(cache_dir: Path) -> None:
    exe = _pyenv("3.11")
    proc = run_ghostenv("python", "find", str(exe), "--json", check=True)
    data = json.loads(proc.stdout)
    assert data["version"].startswith("3.11.")
    assert data["implementation"] == "cpython"
    bad = run_ghostenv("python", "find", "9.9")
    assert bad.returncode != 0
    assert "error: no Python interpreter matches '9.9'" in bad.stderr
    assert "hint: found:" in bad.stderr

