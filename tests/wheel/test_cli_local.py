"""``ghostenv wheel-meta`` on local files, including every bad-input case."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.conftest import run_ghostenv
from tests.wheel.helpers import METADATA, make_wheel


def test_prints_the_metadata_fields(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    proc = run_ghostenv("-v", "wheel-meta", str(wheel), check=True)
    out = proc.stdout
    assert f"File: {wheel.name} ({wheel.stat().st_size} bytes)" in out
    assert "Name: demo-pkg" in out
    assert "Version: 1.2.0" in out
    assert "Requires-Python: >=3.9" in out
    assert "  idna>=2.5" in out
    assert "Provides-Extra: socks" in out
    assert "Reads/seeks: 1, bytes read: " in out  # a small wheel fits in the tail read


def test_json_is_stable_and_sorted(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    first = run_ghostenv("wheel-meta", str(wheel), "--json", check=True).stdout
    second = run_ghostenv("wheel-meta", str(wheel), "--json", check=True).stdout
    assert first == second
    doc = json.loads(first)
    assert list(doc) == sorted(doc)
    assert doc["name"] == "demo-pkg"
    assert doc["version"] == "1.2.0"
    assert doc["requires_python"] == ">=3.9"
    assert doc["requires_dist"] == ["idna>=2.5", 'pysocks!=1.5.7,>=1.5.6; extra == "socks"']
    assert doc["provides_extra"] == ["socks"]
    assert doc["size"] == wheel.stat().st_size


def test_large_wheel_reads_only_a_little(tmp_path: Path) -> None:
    """15 MB of incompressible members; METADATA must cost a few reads, not the file."""
    import os

    blobs = {f"demo_pkg/data/{i}.bin": os.urandom(5000) for i in range(3000)}
    wheel = make_wheel(tmp_path, entries=blobs, compression=zipfile.ZIP_STORED)
    doc = json.loads(run_ghostenv("-v", "wheel-meta", str(wheel), "--json", check=True).stdout)
    assert doc["io"]["reads"] <= 3
    assert doc["io"]["bytes_read"] < 400_000 < wheel.stat().st_size // 30


def test_escaped_dist_info_name_matches(tmp_path: Path) -> None:
    """``Foo.Bar`` wheels name their dist-info ``foo_bar``: normalized, they match."""
    path = tmp_path / "Foo.Bar-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("foo_bar-1.0.dist-info/METADATA", METADATA.format(name="Foo.Bar",
                                                                       version="1.0"))
    assert "Name: Foo.Bar" in run_ghostenv("wheel-meta", str(path), check=True).stdout


def _bad(tmp_path: Path, case: str) -> Path:
    if case == "not-a-zip":
        path = tmp_path / "demo_pkg-1.2.0-py3-none-any.whl"
        path.write_bytes(b"this is not a zip file at all\n" * 10)
        return path
    if case == "truncated":
        good = make_wheel(tmp_path)
        good.write_bytes(good.read_bytes()[:-30])
        return good
    if case == "head-cut":
        good = make_wheel(tmp_path)
        good.write_bytes(good.read_bytes()[200:])
        return good
    if case == "no-metadata":
        return make_wheel(tmp_path, metadata=False)
    if case == "two-metadata":
        return make_wheel(tmp_path, entries={"other-1.0.dist-info/METADATA": b"x"})
    if case == "mismatch":
        return make_wheel(tmp_path, filename="other_pkg-1.2.0-py3-none-any.whl")
    if case == "version-mismatch":
        return make_wheel(tmp_path, filename="demo_pkg-9.9-py3-none-any.whl")
    if case == "escaping":
        return make_wheel(tmp_path, entries={"../evil.py": b"boom"})
    if case == "absolute":
        return make_wheel(tmp_path, entries={"/etc/evil": b"boom"})
    if case == "bzip2":
        return make_wheel(tmp_path, compression=zipfile.ZIP_BZIP2)
    if case == "bad-name":
        path = tmp_path / "notawheel.zip"
        path.write_bytes(make_wheel(tmp_path).read_bytes())
        return path
    if case == "missing":
        return tmp_path / "demo_pkg-1.2.0-py3-none-any.whl"
    raise AssertionError(case)


@pytest.mark.parametrize(("case", "needle"), [
    ("not-a-zip", "not a zip archive"),
    ("truncated", "not a zip archive"),
    ("head-cut", "truncated zip archive"),
    ("no-metadata", "no .dist-info/METADATA"),
    ("two-metadata", "2 METADATA files"),
    ("mismatch", "does not match the file name"),
    ("version-mismatch", "does not match the file name"),
    ("escaping", "escapes the archive"),
    ("absolute", "is absolute"),
    ("bzip2", "unsupported compression method 12"),
    ("bad-name", "not a valid wheel file name"),
    ("missing", "no such file"),
])
def test_bad_input_is_one_clear_error(tmp_path: Path, case: str, needle: str) -> None:
    path = _bad(tmp_path, case)
    proc = run_ghostenv("wheel-meta", str(path))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("error: "), proc.stderr
    assert needle in lines[0], proc.stderr
    assert path.name in lines[0]
    assert all(line.startswith(("error: ", "hint: ")) for line in lines), proc.stderr
    assert "Traceback" not in proc.stderr
