"""``ghostenv resolve`` against the real PyPI, next to ``uv pip compile`` in the same minute."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_ghostenv

WEB = ["requests", "rich", "httpx", "attrs", "click", "pytest", "hypothesis"]


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
    except OSError:
        return False
    return True


def _uv() -> str | None:
    here = Path(sys.executable).parent / "uv"
    return str(here) if here.exists() else shutil.which("uv")


@pytest.mark.network
@pytest.mark.parametrize("platform", ["x86_64-manylinux_2_39", "windows", "macos"])
def test_web_workload_pins_match_uv(platform: str, cache_dir: Path, tmp_path: Path) -> None:
    """The web workload's dependencies (plus platform-only ones like colorama) as uv pins them."""
    uv = _uv()
    if not _pypi_reachable() or uv is None:
        pytest.skip("pypi.org unreachable or uv missing")
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("\n".join(WEB) + "\n")
    ours = run_ghostenv("resolve", "-r", str(reqs), "--python-version", "3.11",
                        "--python-platform", platform, check=True)
    uv_platform = "x86_64-manylinux_2_39" if platform.startswith("x86_64") else platform
    theirs = subprocess.run(
        [uv, "pip", "compile", str(reqs), "--python-version", "3.11", "--python-platform",
         uv_platform, "--no-header", "--no-annotate", "-q",
         "--cache-dir", str(tmp_path / "uv-cache")],
        capture_output=True, text=True, check=True, timeout=300,
    )
    pins = sorted(ours.stdout.split())
    assert pins == sorted(theirs.stdout.split())
    if platform == "windows":
        assert any(p.startswith("colorama==") for p in pins)
