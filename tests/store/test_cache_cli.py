"""``ghostenv cache`` run as a real subprocess against a real store."""

from __future__ import annotations

import os
from pathlib import Path

from ghostenv.store import Store
from tests.conftest import run_ghostenv
from tests.store.wheelbuild import make_wheel


def test_cache_dir_info_verify_clean(tmp_path: Path, cache_dir: Path) -> None:
    assert run_ghostenv("cache", "dir", check=True).stdout.strip() == str(cache_dir)
    store = Store(cache_dir / "store")
    manifest = store.add_wheel(make_wheel(tmp_path, files={"demo/__init__.py": b"A = 1\n",
                                                           "demo/b.py": b"B = 2\n"}))
    info = run_ghostenv("cache", "info", check=True).stdout
    assert "objects: 5" in info
    assert "wheels: 1" in info

    ok = run_ghostenv("cache", "verify")
    assert ok.returncode == 0
    assert "checked 5 objects, 0 corrupt" in ok.stdout

    victim = store.object_path(manifest.files[0].sha256)
    os.chmod(victim, 0o644)
    victim.write_bytes(b"flipped")
    bad = run_ghostenv("cache", "verify")
    assert bad.returncode == 1
    assert f"corrupt: {victim}" in bad.stdout
    assert "--remove" in bad.stderr
    removed = run_ghostenv("cache", "verify", "--remove")
    assert removed.returncode == 1
    assert not victim.exists()
    assert run_ghostenv("cache", "verify").returncode == 0

    cleaned = run_ghostenv("cache", "clean", check=True)
    assert "removed 4 objects" in cleaned.stdout
    assert not (cache_dir / "store").exists()


def test_cache_dir_option_wins(tmp_path: Path, cache_dir: Path) -> None:
    other = tmp_path / "elsewhere"
    out = run_ghostenv("--cache-dir", str(other), "cache", "dir", check=True).stdout
    assert out.strip() == str(other)


def test_prune_keeps_what_live_environments_use(tmp_path: Path, cache_dir: Path) -> None:
    store = Store(cache_dir / "store")
    shared = b"SHARED = True\n"
    kept = store.add_wheel(make_wheel(tmp_path, "kept", files={"kept/__init__.py": shared,
                                                               "kept/only.py": b"K = 1\n"}))
    gone = store.add_wheel(make_wheel(tmp_path, "gone", files={"gone/__init__.py": shared,
                                                               "gone/only.py": b"G = 1\n"}))
    live_env, dead_env = tmp_path / "live", tmp_path / "dead"
    live_env.mkdir()
    dead_env.mkdir()
    store.track(live_env, [kept.wheel_sha256])
    store.track(dead_env, [gone.wheel_sha256])
    assert "environments: 2" in run_ghostenv("cache", "info", check=True).stdout
    dead_env.rmdir()
    out = run_ghostenv("cache", "prune", check=True).stdout
    assert "removed 1 wheels" in out
    assert store.get_manifest(kept.wheel_sha256) == kept  # and all its objects, shared one too
    assert store.get_manifest(gone.wheel_sha256) is None
    only_gone = {f.sha256 for f in gone.files} - {f.sha256 for f in kept.files}
    assert only_gone
    assert not any(store.has(sha) for sha in only_gone)
    assert "environments: 1" in run_ghostenv("cache", "info", check=True).stdout
    assert store.verify().corrupt == ()
