"""SIGKILL during `ghostenv install`, then the same install again: complete and uncorrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ghostenv.store import Store
from tests.conftest import run_ghostenv
from tests.support.index_server import IndexServer


@pytest.mark.parametrize("delay", [0.8])
def test_kill_then_rerun_completes(tmp_path: Path, cache_dir: Path,
                                   fixture_index: IndexServer, delay: float) -> None:
    env = tmp_path / "env"
    args = ["install", "--venv", str(env), "--python", "3.12", "--index-url",
            fixture_index.simple_url, "zeta-big", "alpha"]
    proc = subprocess.Popen([sys.executable, "-m", "ghostenv", *args],
                            env={**os.environ, "GHOSTENV_CACHE_DIR": str(cache_dir)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = run_ghostenv(*args, check=True)
    assert "error" not in done.stderr
    site = env / "lib" / "python3.12" / "site-packages"
    record = (site / "zeta_big-1.0.0.dist-info" / "RECORD").read_text().splitlines()
    assert len(record) > 2000
    missing = [line for line in record if not (site / line.split(",")[0]).exists()]
    assert missing == []
    check = subprocess.run([str(env / "bin" / "python"), "-c",
                            "import zeta_big, alpha, beta; print('ok')"],
                           capture_output=True, text=True, check=False)
    assert check.stdout.strip() == "ok", check.stderr
    assert Store(cache_dir / "store").verify().corrupt == ()
