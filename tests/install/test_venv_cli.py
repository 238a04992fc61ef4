"""``ghostenv venv``: the argparse-free fast path, and --seed (pip from the store)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ghostenv.cli.venv import fast_main
from tests.conftest import run_ghostenv
from tests.support.index_server import IndexServer


def test_seed_installs_pip_from_the_store_and_remembers(tmp_path: Path, cache_dir: Path,
                                                        fixture_index: IndexServer) -> None:
    env = tmp_path / "env"
    proc = run_ghostenv("venv", str(env), "--python", "3.12", "--seed", "--index-url",
                        fixture_index.simple_url, check=True)
    assert "Seeded pip==24.0" in proc.stderr
    out = subprocess.run([str(env / "bin" / "pip")], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "pip 24.0"
    assert (cache_dir / "store" / "linkmodes-v1.json").is_file()  # the probe is remembered

    fixture_index.reset()
    other = tmp_path / "other"
    run_ghostenv("venv", str(other), "--python", "3.12", "--seed", "--index-url",
                 fixture_index.simple_url, check=True)
    assert fixture_index.requests == []  # resolution remembered, wheel in the store
    mod = subprocess.run([str(other / "bin" / "python"), "-m", "pip"], capture_output=True,
                         text=True, check=True)
    assert mod.stdout.strip() == "pip 24.0"


def test_fast_path_creates_and_defers(tmp_path: Path, cache_dir: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert fast_main(["venv", "--help"]) is None
    assert fast_main(["venv", "a", "b"]) is None
    assert fast_main(["venv", "-v", "x"]) is None
    env = tmp_path / "fast"
    assert fast_main(["venv", str(env), "-p", sys.executable, "-q",
                      "--cache-dir", str(cache_dir)]) == 0
    assert (env / "pyvenv.cfg").is_file()
    prefix = subprocess.run([str(env / "bin" / "python"), "-c", "import sys; print(sys.prefix)"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert prefix == str(env)
    code = fast_main(["venv", str(tmp_path / "bad"), "--python", "9.99",
                      f"--cache-dir={cache_dir}"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no Python interpreter matches '9.99'")
