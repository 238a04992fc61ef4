"""``ghostenv resolve`` end to end against the fixture index (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import run_ghostenv


def resolve(index: Any, *args: str) -> Any:
    return run_ghostenv(
        "resolve", *args, "--index-url", index.simple_url, "--python-version", "3.12"
    )


def test_pins_skip_yanked_prerelease_and_python_excluded(fixture_index: Any) -> None:
    proc = resolve(fixture_index, "alpha")
    assert proc.returncode == 0, proc.stderr
    # beta 1.1.0 is yanked, 2.0.0rc1 needs Python>=3.99; alpha 2.0.0b1 is a prerelease.
    assert proc.stdout.splitlines() == ["alpha==1.1.0", "beta==1.2.0", "gamma==1.0.0"]


def test_lowest_and_exact_yanked_pin(fixture_index: Any) -> None:
    lowest = resolve(fixture_index, "alpha", "--resolution", "lowest")
    assert lowest.stdout.splitlines() == ["alpha==1.0.0", "beta==1.0.0", "gamma==1.0.0"]
    pinned = resolve(fixture_index, "alpha", "beta==1.1.0", "--json")
    assert pinned.returncode == 0, pinned.stderr
    doc = json.loads(pinned.stdout)
    chosen = {p["name"]: (p["version"], p["file"]["filename"]) for p in doc["packages"]}
    assert chosen["beta"] == ("1.1.0", "beta-1.1.0-py3-none-any.whl")
    # the platform wheel is preferred for the Linux x86_64 target
    assert chosen["gamma"][1].endswith("manylinux2014_x86_64.whl")


def test_sdist_only_versions_are_read_from_pkg_info(fixture_index: Any) -> None:
    proc = resolve(fixture_index, "alpha[fast]")
    assert proc.returncode == 0, proc.stderr
    assert "delta==0.6.0" in proc.stdout.splitlines()


def test_unsatisfiable_prints_the_derivation(fixture_index: Any) -> None:
    proc = resolve(fixture_index, "alpha[fast]", "--only-binary", "delta")
    assert proc.returncode == 1
    assert "delta has only a source distribution" in proc.stderr
    assert proc.stderr.rstrip().endswith("your requirements are unsatisfiable.")


def test_requirements_file_and_bad_input(fixture_index: Any, tmp_path: Any) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("# pins\nbeta<1.0  # old\n")
    proc = resolve(fixture_index, "-r", str(reqs))
    assert proc.stdout.splitlines() == ["beta==0.9.0"]
    bad = resolve(fixture_index, "beta>>1")
    assert bad.returncode == 2
    assert "invalid requirement" in bad.stderr


def test_unknown_index_scheme_asks_plugins_then_says_so(tmp_path: Any) -> None:
    """No plugin claims s3:// here: one usage error naming the URL, password masked."""
    proc = run_ghostenv("resolve", "attrs", "--index-url", "s3://user:pw@bucket/simple/")
    assert proc.returncode == 2
    assert "s3://user:****@bucket/simple/: no index client for `s3:` URLs" in proc.stderr
    assert ":pw@" not in proc.stderr
