"""A remembered find: answered from the memo while nothing on its trail moved."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from ghostenv.discover import find_interpreter, memo


def test_find_is_remembered_until_the_trail_moves(tmp_path: Path, cache_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    base = Path(os.path.realpath(sys.executable))
    (bindir / "python3").symlink_to(base)
    monkeypatch.setenv("PATH", str(bindir))
    for name in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    first = find_interpreter("python3", cache_dir)
    assert first.path == bindir / "python3"
    hit = memo.lookup(cache_dir, "python3")
    assert hit is not None
    assert hit[0] == str(bindir / "python3")
    assert find_interpreter("python3", cache_dir) == first  # from the memo
    # a new Python earlier in the directory changes its mtime: the memo no longer holds
    shutil.copy(base, bindir / "python")
    os.utime(bindir, ns=(1, 1))
    assert memo.lookup(cache_dir, "python3") is None
    assert find_interpreter("python3", cache_dir).path == bindir / "python"
    # another PATH is another context
    monkeypatch.setenv("PATH", f"{tmp_path}:{bindir}")
    assert memo.lookup(cache_dir, "python3") is None


def test_path_requests_and_broken_memos(tmp_path: Path, cache_dir: Path) -> None:
    exe = os.path.realpath(sys.executable)
    interp = find_interpreter(exe, cache_dir)
    assert memo.lookup(cache_dir, exe) is not None
    Path(memo.memo_path(cache_dir, exe)).write_bytes(b"not marshal")
    assert memo.lookup(cache_dir, exe) is None
    assert find_interpreter(exe, cache_dir) == interp
