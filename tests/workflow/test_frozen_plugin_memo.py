"""The remembered plugin scan of the fresh-environment sync (``plugins._scan_remembered``).

The memo must answer what a real scan answers: a plugin installed (or removed)
after the memo was written is seen at once, and a directory changed within the
clock tick of a scan is never remembered.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from ghostenv import plugins

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

#: Longer than plugins._RACY_NS: directories changed before this are remembered.
_SETTLE = 0.08


def _dist(site: Path, name: str, *, plugin: bool) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    text = "[ghostenv]\ndemo = demo:plugin\n" if plugin else "[console_scripts]\nx = y:z\n"
    (info / "entry_points.txt").write_text(text)


def _settle() -> None:
    time.sleep(_SETTLE)


def test_memo_answers_like_the_scan_and_sees_a_new_plugin(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("GHOSTENV_CACHE_DIR", str(cache))
    site, other = tmp_path / "site", tmp_path / "other"
    site.mkdir()
    other.mkdir()
    _dist(site, "plain", plugin=False)
    _settle()
    paths = [str(site), str(other), str(tmp_path / "missing")]
    assert plugins._scan_remembered(paths) is False
    assert (cache / "plugins-v1.bin").is_file()  # old directories: remembered
    assert plugins._scan_remembered(paths) is False

    _dist(other, "demo", plugin=True)  # installing a plugin changes the directory's mtime
    assert plugins._scan(paths) is True
    assert plugins._scan_remembered(paths) is True
    _settle()
    assert plugins._scan_remembered(paths) is True  # remembered now, still right
    assert plugins._scan_remembered(paths) is True

    for child in (other / "demo-1.0.dist-info").iterdir():  # uninstalled
        child.unlink()
    (other / "demo-1.0.dist-info").rmdir()
    assert plugins._scan_remembered(paths) is False
    assert plugins._scan_remembered(paths[:1]) is False  # another sys.path: its own entry


def test_times_set_back_do_not_revive_an_old_answer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GHOSTENV_CACHE_DIR", str(tmp_path / "cache"))
    site = tmp_path / "site"
    site.mkdir()
    old = time.time() - 3600
    os.utime(site, (old, old))
    _settle()
    assert plugins._scan_remembered([str(site)]) is False
    _dist(site, "demo", plugin=True)
    os.utime(site, (old, old))  # as `cp -a` or `touch -d` might: the ctime still moves
    assert plugins._scan_remembered([str(site)]) is True


def test_a_directory_changed_just_now_is_not_remembered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("GHOSTENV_CACHE_DIR", str(cache))
    monkeypatch.setattr(plugins, "_RACY_NS", 10**12)  # "just now", however slow this machine
    site = tmp_path / "site"
    site.mkdir()
    _dist(site, "plain", plugin=False)  # mtime: now
    assert plugins._scan_remembered([str(site)]) is False
    assert not (cache / "plugins-v1.bin").exists()
    # a plugin landing in the same clock tick is found by the scan that follows
    (site / "plain-1.0.dist-info" / "entry_points.txt").write_text("[ghostenv]\nd = d:p\n")
    assert plugins._scan_remembered([str(site)]) is True


def test_a_damaged_memo_is_a_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("GHOSTENV_CACHE_DIR", str(cache))
    (cache / "plugins-v1.bin").write_bytes(b"\x00garbage")
    site0 = tmp_path / "site0"
    site0.mkdir()
    import marshal

    (cache / "plugins-v1.bin").write_bytes(marshal.dumps({(str(site0),): 5}))  # not a pair
    assert plugins._scan_remembered([str(site0)]) is False
    site = tmp_path / "site"
    site.mkdir()
    _dist(site, "demo", plugin=True)
    _settle()
    assert plugins._scan_remembered([str(site)]) is True
    assert plugins._scan_remembered([str(site)]) is True
