"""IndexSource on the real fixture index: pipelining, fast version listing, lenient metadata."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from ghostenv.errors import WheelError
from ghostenv.resolve.index_source import IndexSettings, IndexSource, _split_filename
from ghostenv.resolve.index_source import _parse as _parse_for_resolver
from ghostenv.resolve.python import Options, PythonProvider, Target, resolve
from ghostenv.resolve.version_set import VersionSet
from ghostenv.wheel.metadata import parse_metadata
from tests.support.builder import build_all
from tests.support.index_server import IndexServer, ServerOptions

TARGET = Target.linux("3.12")


def _wait_for(predicate: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_lookahead_fetches_dependencies_and_their_metadata_unasked(make_index: Any) -> None:
    """One hint about alpha streams in alpha, then beta and gamma with their metadata."""
    server = make_index()
    with IndexSource(IndexSettings(index_url=server.simple_url), TARGET) as source:
        provider = PythonProvider(source, TARGET, direct=[Requirement("alpha")])
        provider.prefetch([("alpha", VersionSet.full())])

        def paths() -> list[str]:
            return [r.path for r in server.requests]

        # nobody asked for beta or gamma: the lookahead followed alpha's metadata by itself
        assert _wait_for(lambda: any("gamma-1.0.0" in p and p.endswith(".metadata")
                                     for p in paths()))
        assert _wait_for(lambda: any("beta-1.2.0" in p and p.endswith(".metadata")
                                     for p in paths()))
        # the likely version skips the yanked 1.1.0 and the prerelease/Python-excluded 2.0.0rc1
        assert not any("beta-1.1.0" in p or "beta-2.0.0rc1" in p for p in paths())
        before = len(server.requests)
        # the solver's own questions are now answered without a request
        assert source.metadata("beta", Version("1.2.0")).requires_dist == ()
        alpha = source.metadata("alpha", Version("1.1.0"))
        assert str(alpha.requires_dist[0]) == "beta>=1.1"
        assert len(server.requests) == before


class _PagesOnly(IndexSource):
    """IndexSource as it was before pipelining: the solver's hint fetches pages only."""

    accepts_lookahead = False


def _fan_out_index(tmp_path: Path, latency: float) -> IndexServer:
    """top -> mid-1..3, each mid-i -> leaf-i: three levels, three wide."""
    packages = tmp_path / "packages"
    packages.mkdir()
    (packages / "top.toml").write_text(
        'name = "top"\n[[version]]\nversion = "1.0"\n'
        'requires-dist = ["mid-1", "mid-2", "mid-3"]\n')
    for i in (1, 2, 3):
        (packages / f"mid{i}.toml").write_text(
            f'name = "mid-{i}"\nsdist = false\n[[version]]\nversion = "1.0"\n'
            f'requires-dist = ["leaf-{i}"]\n')
        (packages / f"leaf{i}.toml").write_text(
            f'name = "leaf-{i}"\nsdist = false\n[[version]]\nversion = "1.0"\n')
    build = build_all(tmp_path / "wheels", packages)
    return IndexServer(build=build, options=ServerOptions(latency=latency)).start()


def test_pipelining_saves_round_trips(tmp_path: Path) -> None:
    """Depth, not size, bounds the waits: 6 round trips instead of 10 for this graph.

    Pages only: top page, top metadata, mid pages, 3 mid metadata one by one, leaf pages,
    3 leaf metadata one by one. Pipelined: top, its metadata, mid pages, mid metadata
    (together), leaf pages, leaf metadata (together). Compared in the same run, so a
    loaded machine slows both alike.
    """
    latency = 0.12
    server = _fan_out_index(tmp_path, latency)
    options = Options(only_binary=frozenset({":all:"}))
    try:
        elapsed = {}
        for kind in (IndexSource, _PagesOnly):
            start = time.perf_counter()
            with kind(IndexSettings(index_url=server.simple_url), TARGET) as source:
                pins = resolve(source, ["top"], TARGET, options)
            elapsed[kind.__name__] = time.perf_counter() - start
            assert len(pins) == 7
    finally:
        server.stop()
    assert elapsed["IndexSource"] < elapsed["_PagesOnly"] - 2 * latency, elapsed


def test_versions_from_filenames(make_index: Any) -> None:
    server = make_index()
    with IndexSource(IndexSettings(index_url=server.simple_url), TARGET) as source:
        by_version = {str(c.version): c for c in source.versions("Beta")}
        gamma = next(c for c in source.versions("gamma") if str(c.version) == "1.0.0")
    assert set(by_version) == {"0.9.0", "1.0.0", "1.1.0", "1.2.0", "2.0.0rc1"}
    assert by_version["1.1.0"].yanked
    assert str(by_version["2.0.0rc1"].requires_python) == ">=3.99"
    assert "py3-none-any" in by_version["1.0.0"].wheel_tags
    assert "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64" in gamma.wheel_tags


@pytest.mark.parametrize(("filename", "expected"), [
    ("a-1.0-py3-none-any.whl", ("1.0", "py3-none-any")),
    ("a-1.0-1build-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
     ("1.0", "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64")),
    ("foo-bar-2.0.post1.tar.gz", ("2.0.post1", None)),
    ("pkg-3.zip", ("3", None)),
    ("broken.whl", (None, None)),
    ("README", (None, None)),
    ("nohyphen.tar.gz", (None, None)),
])
def test_split_filename(filename: str, expected: tuple[str | None, str | None]) -> None:
    assert _split_filename(filename) == expected


def test_sdist_version_follows_the_project_name_as_uv_reads_it() -> None:
    """cffi-1.0.2-2.tar.gz is cffi 1.0.2.post2, not a "cffi-1.0.2" at version 2 (H2's find)."""
    assert _split_filename("cffi-1.0.2-2.tar.gz", "cffi") == ("1.0.2-2", None)
    assert _split_filename("Foo_Bar-1.0.zip", "foo-bar") == ("1.0", None)
    assert _split_filename("foo-bar-2.0.tar.gz", "foo-bar") == ("2.0", None)
    assert _split_filename("other-1.0.tar.gz", "foo") == ("1.0", None)  # not ours: last hyphen


SIX_1_17 = b"""Metadata-Version: 2.1
Name: six
Version: 1.17.0
License-File: LICENSE
Requires-Python: >=2.7, !=3.0.*, !=3.1.*, !=3.2.*

Six is a Python 2 and 3 compatibility library.
"""

REQUESTS_2_9_2 = b"""Metadata-Version: 2.0
Name: requests
Version: 2.9.2
Requires-Dist: certifi (>=2017.4.17)
Requires-Dist: this is not a requirement !!
Provides-Extra: Security
Requires-Dist: pyOpenSSL (>=0.13); extra == 'security'
"""


def test_lenient_metadata_reads_real_old_files() -> None:
    for data in (SIX_1_17, REQUESTS_2_9_2):
        with pytest.raises(WheelError):
            parse_metadata(data, source="METADATA")
    six = parse_metadata(SIX_1_17, lenient=True)
    assert (six.name, str(six.version), six.metadata_version) == ("six", "1.17.0", "2.1")
    assert six.requires_python is not None
    assert six.requires_python.contains("3.11")
    old = parse_metadata(REQUESTS_2_9_2, lenient=True)
    assert [str(r) for r in old.requires_dist] == [
        "certifi>=2017.4.17", 'pyOpenSSL>=0.13; extra == "security"']
    assert old.provides_extra == ("security",)


def test_lenient_metadata_still_needs_name_and_version() -> None:
    with pytest.raises(WheelError, match="PKG: invalid core metadata"):
        parse_metadata(b"Metadata-Version: 2.0\nName: x\nVersion: not a version\n",
                       source="PKG", lenient=True)


def test_requirement_fields_read_only_the_header_block() -> None:
    from ghostenv.wheel.metadata import requirement_fields

    data = (b"Metadata-Version: 2.1\r\nName: x\r\nREQUIRES-DIST: a>=1;\r\n"
            b"  extra == 'fast'\r\nProvides-Extra: Fast\r\nLicense-File: COPYING\r\n\r\n"
            b"Requires-Dist: not-a-field-this-is-the-description\r\n")
    assert requirement_fields(data) == (["a>=1; extra == 'fast'"], ["Fast"])
    assert requirement_fields(b"Name: y\nRequires-Dist: b\n") == (["b"], [])
    meta = _parse_for_resolver(SIX_1_17 + b"Requires-Dist: ok\n", "six")
    assert meta.requires_dist == ()  # after the blank line: description, not a field
    meta = _parse_for_resolver(REQUESTS_2_9_2, "requests")
    assert [str(r) for r in meta.requires_dist] == [
        "certifi>=2017.4.17", 'pyOpenSSL>=0.13; extra == "security"']
    assert meta.provides_extra == ("security",)


def test_best_wheel_is_the_best_ranked_tag_not_the_first_listed() -> None:
    """As uv/pip: cp312 manylinux_2_28 over manylinux2014 over abi3 over py3-none-any."""
    from ghostenv.index.models import DistFile, ProjectPage

    names = ["cn-3.5-py3-none-any.whl", "cn-3.5-cp312-cp312-manylinux2014_x86_64.whl",
             "cn-3.5-cp38-abi3-manylinux_2_28_x86_64.whl", "cn-3.5-cp312-cp312-win_amd64.whl",
             "cn-3.5-cp312-cp312-manylinux_2_28_x86_64.whl", "cn-3.5.tar.gz"]
    page = ProjectPage(name="cn", files=tuple(DistFile(filename=n, url=f"https://x/{n}")
                                              for n in names))
    chosen = {}
    for label, target in (("linux", TARGET), ("windows", Target.for_platform("3.12", "windows")),
                          ("mac", Target.for_platform("3.12", "macos"))):
        source = IndexSource(IndexSettings(), target)
        source._pages["cn"] = page
        wheel = source.best_wheel("cn", Version("3.5"))
        chosen[label] = wheel.filename if wheel else None
    assert chosen == {"linux": "cn-3.5-cp312-cp312-manylinux_2_28_x86_64.whl",
                      "windows": "cn-3.5-cp312-cp312-win_amd64.whl",
                      "mac": "cn-3.5-py3-none-any.whl"}
