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


def test_remembered_find_writes_the_same_environment(tmp_path: Path, cache_dir: Path) -> None:
    """The second `venv` answers from the memo (no search): same files, same pyvenv.cfg."""
    from ghostenv.discover import memo

    first, second = tmp_path / "one", tmp_path / "two"
    made = run_ghostenv("venv", str(first), "--python", "3.12", check=True)
    assert memo.lookup(cache_dir, "3.12") is not None
    again = run_ghostenv("venv", str(second), "--python", "3.12", check=True)
    assert again.stderr.replace(str(second), "X") == made.stderr.replace(str(first), "X")

    def files(root: Path) -> dict[str, str]:
        out = {}
        for path in sorted(root.rglob("*")):
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "-> " + str(path.readlink())
            elif path.is_file():
                out[rel] = path.read_text().replace(str(root), "ROOT").replace(root.name, "NAME")
            else:
                out[rel] = "dir"
        return out

    one, two = files(first), files(second)
    one["pyvenv.cfg"] = two["pyvenv.cfg"] = ""  # the command line differs
    assert one == two
    cfg = (second / "pyvenv.cfg").read_text()
    assert "version_info = 3.12." in cfg
    assert "ghostenv = " in cfg
    prefix = subprocess.run([str(second / "bin" / "python"), "-c",
                             "import sys; print(sys.prefix)"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert prefix == str(second)
