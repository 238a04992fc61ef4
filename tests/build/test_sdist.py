"""Sdists: refused when they try to escape, built when they come from the index."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.version import Version

from ghostenv.build import build_wheel, sdist_metadata_builder
from ghostenv.build.extract import extract_sdist
from ghostenv.discover import Interpreter
from ghostenv.errors import BuildError
from ghostenv.index import DistFile
from ghostenv.resolve.index_source import IndexSettings, IndexSource
from ghostenv.resolve.python import Target, resolve
from ghostenv.store import Store
from tests.support.index_server import IndexServer


def _tar(path: Path, members: list[tarfile.TarInfo]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for info in members:
            data = b"x = 1\n" if info.isfile() else b""
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


@pytest.mark.parametrize("case", [
    ("../evil.py", tarfile.REGTYPE, "", "points outside"),
    ("pkg-1.0/../../evil.py", tarfile.REGTYPE, "", "points outside"),
    ("/tmp/evil.py", tarfile.REGTYPE, "", "absolute path"),
    ("pkg-1.0/link", tarfile.SYMTYPE, "/etc/passwd", "is a link"),
    ("pkg-1.0/hard", tarfile.LNKTYPE, "../outside", "is a link"),
    ("pkg-1.0/dev", tarfile.CHRTYPE, "", "not a regular file"),
])
def test_malicious_tar_is_refused(case: tuple[str, bytes, str, str], tmp_path: Path) -> None:
    name, kind, link, reason = case
    sdist = _tar(tmp_path / "pkg-1.0.tar.gz",
                 [_member("pkg-1.0/setup.py"), _member(name, kind, link)])
    dest = tmp_path / "out"
    with pytest.raises(BuildError, match=reason):
        extract_sdist(sdist, dest)
    assert not (tmp_path / "evil.py").exists()
    assert not list(dest.rglob("*"))  # nothing extracted, not even the good member


def test_decompression_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GHOSTENV_SDIST_MAX_BYTES", "1000")
    sdist = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tf:
        info = tarfile.TarInfo("pkg-1.0/big.bin")
        info.size = 5000
        tf.addfile(info, io.BytesIO(bytes(5000)))  # zeros: a few bytes compressed
    with pytest.raises(BuildError, match="unpacks to 5000 bytes, more than the 1000"):
        extract_sdist(sdist, tmp_path / "out")
    assert not list((tmp_path / "out").rglob("*"))


def test_zip_sdist_builds(project: Callable[[str], Path], build_python: Interpreter,
                          build_settings: IndexSettings, shared_store: Store,
                          tmp_path: Path) -> None:
    source = project("build-flit")
    sdist = tmp_path / "bflit-0.3.0.zip"
    with zipfile.ZipFile(sdist, "w") as zf:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                zf.write(path, f"bflit-0.3.0/{path.relative_to(source)}")
    wheel = build_wheel(sdist, interpreter=build_python, settings=build_settings,
                        store=shared_store)
    assert wheel.name == "bflit-0.3.0-py3-none-any.whl"


def test_malicious_zip_is_refused(tmp_path: Path) -> None:
    sdist = tmp_path / "pkg-1.0.zip"
    with zipfile.ZipFile(sdist, "w") as zf:
        zf.writestr("pkg-1.0/setup.py", "")
        zf.writestr("pkg-1.0/../../evil.py", "")
    with pytest.raises(BuildError, match="points outside"):
        extract_sdist(sdist, tmp_path / "out")
    assert not (tmp_path / "evil.py").exists()


def test_malicious_sdist_build_is_refused(tmp_path: Path, build_python: Interpreter,
                                          build_settings: IndexSettings) -> None:
    sdist = _tar(tmp_path / "pkg-1.0.tar.gz", [_member("pkg-1.0/setup.py"),
                                                _member("pkg-1.0/../../../evil.py")])
    with pytest.raises(BuildError, match=r"pkg-1.0.tar.gz: member .* points outside"):
        build_wheel(sdist, interpreter=build_python, settings=build_settings,
                    store=Store(tmp_path / "store"))


def test_sdist_only_dependency_metadata_and_wheel(fixture_index: IndexServer,
                                                  build_python: Interpreter,
                                                  build_settings: IndexSettings,
                                                  shared_store: Store, tmp_path: Path) -> None:
    """delta 0.6.0 ships only an sdist: its metadata is built (hatchling) and the wheel too."""
    builder = sdist_metadata_builder(build_python, build_settings, shared_store)
    with IndexSource(build_settings, Target.for_interpreter(build_python)) as source:
        sdist = next(f for f in source.files("delta", Version("0.6.0")) if not f.is_wheel)
        metadata = builder(sdist)
    assert b"Name: delta" in metadata
    assert b"Requires-Dist: beta" in metadata
    assert any(r.path.endswith("/delta-0.6.0.tar.gz") for r in fixture_index.requests)
    # The downloaded sdist is kept: building its wheel reads it from the store.
    from ghostenv.build import fetch_sdist

    fixture_index.reset()
    local = fetch_sdist(sdist, shared_store, build_settings)
    assert not fixture_index.requests
    wheel = build_wheel(local, interpreter=build_python, settings=build_settings,
                        store=shared_store)
    assert wheel.name.startswith("delta-0.6.0-")
    assert wheel.name.endswith("-none-any.whl")
    with zipfile.ZipFile(wheel) as zf:
        assert "delta/__init__.py" in zf.namelist()


def test_resolver_uses_built_sdist_metadata(build_python: Interpreter,
                                            build_settings: IndexSettings,
                                            shared_store: Store) -> None:
    """With the builder plugged in, resolving an sdist-only package works end to end."""
    target = Target.for_interpreter(build_python)
    builder = sdist_metadata_builder(build_python, build_settings, shared_store)
    with IndexSource(build_settings, target, sdist_metadata=builder) as source:
        pins = resolve(source, ["delta==0.6.0"], target)
    assert str(pins["delta"]) == "0.6.0"
    assert "beta" in pins


def _untrusted_sdist(folder: Path) -> Path:
    """An sdist whose PKG-INFO (1.2, no Requires-Dist) cannot be trusted: only a build tells."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = {
        "bsdist-1.0/PKG-INFO": b"Metadata-Version: 1.2\nName: bsdist\nVersion: 1.0\n",
        "bsdist-1.0/pyproject.toml": (
            b'[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
            b'[project]\nname = "bsdist"\nversion = "1.0"\ndependencies = ["beta>=1"]\n'),
        "bsdist-1.0/bsdist/__init__.py": b"",
    }
    path = folder / "bsdist-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_resolver_builds_untrusted_sdist_metadata(build_python: Interpreter,
                                                  build_settings: IndexSettings,
                                                  shared_store: Store, tmp_path: Path) -> None:
    """PKG-INFO 1.2 is not trusted: the resolver asks the builder, which finds ``beta``."""
    from dataclasses import replace

    links = tmp_path / "links"
    _untrusted_sdist(links)
    settings = replace(build_settings, find_links=(*build_settings.find_links, str(links)))
    target = Target.for_interpreter(build_python)
    calls: list[str] = []
    builder = sdist_metadata_builder(build_python, settings, shared_store)

    def counting(file: DistFile) -> bytes:
        calls.append(file.filename)
        return builder(file)

    with IndexSource(settings, target, sdist_metadata=counting) as source:
        pins = resolve(source, ["bsdist"], target)
    assert calls == ["bsdist-1.0.tar.gz"]
    assert str(pins["bsdist"]) == "1.0"
    assert "beta" in pins
