"""The lock builder against uv's own output: same resolution in, same bytes out.

The resolution is taken from a lock uv wrote (tests/lock/resolution_from_lock.py),
so these tests pin down what the builder decides on its own: which files, which
hash, size and upload time, the root's metadata, entry merging and layout.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet

from ghostenv.errors import NetworkError
from ghostenv.lock.artifacts import upload_time_ms, wheel_matches_python
from ghostenv.lock.build import build_lock, requires_python_text
from ghostenv.lock.reach import tag_platforms
from ghostenv.lock.read import read_lock
from ghostenv.lock.write import dumps
from ghostenv.project.read import read_project
from ghostenv.resolve.index_source import IndexSettings, IndexSource
from tests.lock.resolution_from_lock import resolution_from_lock

REPO = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"

FIXTURE_PROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = [
    "alpha[fast,docs]",
    "epsilon-tool; sys_platform == 'win32'",
    "Gamma>=0.1,<2",
    "beta; python_version >= '3.10'",
]

[project.optional-dependencies]
x = ["delta"]
Y_Z = ["beta>=1.0; platform_system == 'Windows'"]

[dependency-groups]
dev = ["beta", {include-group = "lint"}]
lint = []
"""


def _uv_lock(project: Path, index_url: str, tmp_path: Path) -> str:
    if not UV.exists():
        pytest.skip("uv is not installed next to the test interpreter")
    proc = subprocess.run(
        [str(UV), "lock", "--no-config", "--index-url", index_url, "--python", sys.executable,
         "--cache-dir", str(tmp_path / "uv-cache")],
        cwd=project, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return (project / "uv.lock").read_text(encoding="utf-8")


def _rebuild(root: Path, settings: IndexSettings, registry: str) -> str:
    lock = read_lock(root / "uv.lock")
    project = read_project(root)
    with IndexSource(settings) as source:
        built = build_lock(project, resolution_from_lock(lock, project.name), source.files,
                           lambda _name: registry)
    return dumps(built)


def test_fixture_project_is_byte_identical_to_uv(fixture_index: Any, tmp_path: Path) -> None:
    project = tmp_path / "demo"
    project.mkdir()
    (project / "pyproject.toml").write_text(FIXTURE_PROJECT)
    expected = _uv_lock(project, fixture_index.simple_url, tmp_path)
    settings = IndexSettings(index_url=fixture_index.simple_url, cache_dir=tmp_path / "cache")
    assert _rebuild(project, settings, fixture_index.simple_url) == expected


@pytest.mark.network
@pytest.mark.parametrize("workload", ["web", "data"])
def test_workload_locks_rebuild_from_pypi(workload: str, tmp_path: Path) -> None:
    """Files, wheel filtering (requires-python; platform reach is in the packse tests), layout.

    These locks were written through an HTML-only mirror, so uv recorded no
    ``size``; ``upload-time`` depends on which page format the index answers
    with, so both are set aside and everything else must match byte for byte.
    """
    root = REPO / "fixtures" / "locks" / workload
    try:
        out = _rebuild(root, IndexSettings(cache_dir=tmp_path / "cache"), "https://pypi.org/simple")
    except NetworkError as exc:
        pytest.skip(f"PyPI not reachable: {exc}")

    def strip(text: str) -> str:
        return re.sub(r', (size = \d+|upload-time = "[^"]*")', "", text)

    assert strip(out) == strip((root / "uv.lock").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("filename", "spec", "expected"),
    [
        ("x-1-py3-none-any.whl", ">=3.9", True),
        ("x-1-py2-none-any.whl", ">=3.9", False),
        ("x-1-py2.py3-none-any.whl", ">=3.9", True),
        ("x-1-cp38-cp38-manylinux_2_17_x86_64.whl", ">=3.9", False),
        ("x-1-cp39-cp39-manylinux_2_17_x86_64.whl", ">=3.9", True),
        ("x-1-cp312-cp312-win_amd64.whl", ">=3.9,<3.12", False),
        ("x-1-cp37-abi3-manylinux_2_17_x86_64.whl", ">=3.9", True),
        ("x-1-pp38-pypy38_pp73-win_amd64.whl", ">=3.9", False),
        ("x-1-pp310-pypy310_pp73-win_amd64.whl", ">=3.9", True),
        ("x-1-graalpy312-graalpy250_312_native-win_amd64.whl", ">=3.10", True),
        ("x-1-graalpy311-graalpy242_311_native-win_amd64.whl", ">=3.12", False),
        ("x-1-py38-none-any.whl", ">=3.9", True),
        ("x-1-py312-none-any.whl", "==3.10.*", False),
        ("x-1-cp314-cp314t-musllinux_1_2_x86_64.whl", ">=3.10", True),
    ],
)
def test_wheel_python_filter(filename: str, spec: str, expected: bool) -> None:
    assert wheel_matches_python(filename, SpecifierSet(spec)) is expected


def test_values_as_uv_writes_them() -> None:
    assert upload_time_ms("2024-12-04T17:35:26.475213Z") == "2024-12-04T17:35:26.475Z"
    assert upload_time_ms("2024-12-04T17:35:26.920Z") == "2024-12-04T17:35:26.92Z"
    assert upload_time_ms("2026-11-06T17:37:01+00:00") == "2026-11-06T17:37:01Z"
    assert upload_time_ms(None) is None
    assert requires_python_text(SpecifierSet("<4,>=3.9")) == ">=3.9, <4"
    assert requires_python_text(SpecifierSet("~=3.10")) == ">=3.10, <4"
    assert requires_python_text(SpecifierSet(">=3.10")) == ">=3.10"


def test_platform_tags() -> None:
    assert tag_platforms("x-1-py3-none-any.whl") is None
    assert tag_platforms("x-1-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl") == {
        ("linux", "aarch64")
    }
    assert tag_platforms("x-1-cp312-cp312-macosx_11_0_universal2.whl") == {
        ("darwin", "x86_64"), ("darwin", "arm64")
    }
    assert tag_platforms("x-1-cp312-cp312-win_arm64.whl") == {("win32", "*")}
