"""``ghostenv peek`` as a user runs it: a subprocess against the fixture index and PyPI."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_ghostenv


def test_peek_json_against_fixture_index(fixture_index: Any, cache_dir: Path) -> None:
    proc = run_ghostenv("peek", "alpha", "Gamma", "--json", "--index-url",
                        fixture_index.simple_url, check=True)
    doc = json.loads(proc.stdout)
    by_name = {p["name"]: p for p in doc["packages"]}
    assert by_name["alpha"]["version"] == "1.1.0"  # 2.0.0b1 is a pre-release
    assert by_name["alpha"]["requires_python"] == ">=3.8"
    assert any(d.startswith("beta") for d in by_name["alpha"]["dependencies"])
    assert by_name["gamma"]["version"] == "1.0.0"
    assert doc["summary"]["packages"] == 2
    assert doc["summary"]["requests"] >= 4
    assert "\r" not in proc.stderr  # no progress display when not a TTY


def test_peek_requirements_file_and_missing_package(fixture_index: Any, cache_dir: Path,
                                                    tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("# comment\nbeta>=1\nnosuch-package ; python_version > '3'\n")
    proc = run_ghostenv("peek", "-r", str(req), "--index-url", fixture_index.simple_url)
    assert proc.returncode == 1
    assert proc.stdout.startswith("beta ")
    assert "error: nosuch-package" in proc.stderr
    assert "2 packages (1 failed)" in proc.stderr


def test_peek_without_names_is_a_usage_error(cache_dir: Path) -> None:
    proc = run_ghostenv("peek")
    assert proc.returncode == 2
    assert "nothing to peek" in proc.stderr


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
    except OSError:
        return False
    return True


@pytest.mark.network
def test_peek_real_pypi(cache_dir: Path) -> None:
    if not _pypi_reachable():
        pytest.skip("pypi.org unreachable")
    proc = run_ghostenv("peek", "requests", "flask", "idna", "packaging", "--json", check=True)
    by_name = {p["name"]: p for p in json.loads(proc.stdout)["packages"]}
    assert set(by_name) == {"requests", "flask", "idna", "packaging"}
    assert any(d.startswith("idna") for d in by_name["requests"]["dependencies"])
    assert by_name["flask"]["requires_python"]


def test_pick_newest_orders_like_pep440() -> None:
    from ghostenv.cli.peek import _pick_newest

    named = [("a-1.10.0-py3-none-any.whl", False), ("a-1.9.0.tar.gz", False),
             ("a-1.10.0.tar.gz", False), ("a-1.10.0.post1.tar.gz", False),
             ("a-2.0rc1.tar.gz", False), ("a-3.0.tar.gz", True)]
    assert _pick_newest(named) == {"a-1.10.0.post1.tar.gz"}
    assert _pick_newest([("a-1.0.tar.gz", False), ("a-1.0.0-py3-none-any.whl", False)]) == {
        "a-1.0.tar.gz", "a-1.0.0-py3-none-any.whl"}
    assert _pick_newest([("a-2.0rc1.tar.gz", False)]) == {"a-2.0rc1.tar.gz"}
    assert _pick_newest([("a-1!0.1.tar.gz", False), ("a-9.tar.gz", False)]) == {"a-1!0.1.tar.gz"}
    assert _pick_newest([("a-3.0.tar.gz", True)]) == set()
