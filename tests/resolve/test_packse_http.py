"""The packse scenarios through ``ghostenv resolve`` against the packse index over HTTP.

Same oracle as test_packse.py, but the data comes from the served index
(HTML pages, wheels read with Range requests, sdists' PKG-INFO) and the CLI
entry point runs in-process. All 106 run, including the 7 whose answer is a
version that ships only an sdist (its hatchling PKG-INFO is Metadata-Version
2.4 with nothing dynamic, so it is read without a build).
"""

from __future__ import annotations

import pytest

from ghostenv.cli.main import main
from tests.resolve.test_packse import NAMES, REFERENCE, SCENARIOS


def _args(name: str) -> list[str]:
    scenario, reference = SCENARIOS[name], REFERENCE[name]
    options = scenario["resolver_options"]
    python = scenario["environment"]["python"]
    if reference["mode"] == "compile" and options["python"]:
        python = options["python"]
    args = ["--python-version", python]
    if options["prereleases"]:
        args += ["--prerelease", "allow"]
    if options["python_platform"]:
        args += ["--python-platform", "x86_64-manylinux2014"]
    for package in options["no_binary"] or ():
        args += ["--no-binary", package]
    for package in options["no_build"] or ():
        args += ["--only-binary", package]
    return args + [r["requirement"] for r in scenario["root"]["requires"]]


@pytest.mark.parametrize("name", [n for n in NAMES if n in REFERENCE])
def test_packse_over_http(name: str, packse_index: str, capsys: pytest.CaptureFixture[str]) -> None:
    reference = REFERENCE[name]
    code = main(["resolve", "--index-url", packse_index, *_args(name)])
    out = capsys.readouterr()
    if reference["uv_exit"] != 0:
        assert code == 1, out.out
        return
    assert code == 0, out.err
    pins = dict(line.split("==", 1) for line in out.out.splitlines())
    resolved = reference["uv_resolved"]
    for package, version in reference["expected_packages"].items():
        want = resolved[package][0] if package in resolved else version
        assert pins.get(package) == want, (package, pins)
