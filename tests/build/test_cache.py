"""The built-wheel cache, failures and offline builds (in-tree backends: milliseconds)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ghostenv.build import build_wheel, prepare_metadata
from ghostenv.discover import Interpreter
from ghostenv.errors import BuildError, NetworkError
from ghostenv.resolve.index_source import IndexSettings
from ghostenv.store import Store
from tests.support.index_server import IndexServer


@pytest.fixture
def backend_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "backend.log"
    monkeypatch.setenv("GHOSTENV_TEST_BACKEND_LOG", str(log))
    return log


def _hooks(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def test_second_build_is_a_cache_hit(project: Callable[[str], Path], build_python: Interpreter,
                                     build_settings: IndexSettings, tmp_path: Path,
                                     backend_log: Path) -> None:
    store = Store(tmp_path / "store")
    source = project("build-inline")
    first = build_wheel(source, interpreter=build_python, settings=build_settings, store=store)
    assert _hooks(backend_log) == ["get_requires_for_build_wheel", "build_wheel"]
    second = build_wheel(source, interpreter=build_python, settings=build_settings, store=store)
    assert second == first
    assert _hooks(backend_log) == ["get_requires_for_build_wheel", "build_wheel"]  # no run
    # A copy elsewhere has the same hash: still cached. Build droppings do not count.
    (source / "build").mkdir()
    (source / "build" / "junk.txt").write_text("x")
    (source / "binline.egg-info").mkdir()
    build_wheel(source, interpreter=build_python, settings=build_settings, store=store)
    assert len(_hooks(backend_log)) == 2
    # Metadata of a source already built comes from the cached wheel, without the backend.
    assert b"Requires-Dist: beta>=1" in prepare_metadata(
        source, interpreter=build_python, settings=build_settings, store=store)
    assert len(_hooks(backend_log)) == 2
    # An edit invalidates; the backend's extra requirements are remembered while the
    # configuration files stay the same.
    (source / "binline" / "__init__.py").write_text("VALUE = 'edited'\n")
    build_wheel(source, interpreter=build_python, settings=build_settings, store=store)
    assert _hooks(backend_log)[2:] == ["build_wheel"]
    with (source / "pyproject.toml").open("a") as handle:
        handle.write("# config edit\n")
    build_wheel(source, interpreter=build_python, settings=build_settings, store=store)
    assert _hooks(backend_log)[3:] == ["get_requires_for_build_wheel", "build_wheel"]


def test_prepare_metadata_falls_back_to_building(project: Callable[[str], Path],
                                                 build_python: Interpreter,
                                                 build_settings: IndexSettings, tmp_path: Path,
                                                 backend_log: Path) -> None:
    """The inline backend has no prepare_metadata hook: the wheel is built and read."""
    store = Store(tmp_path / "store")
    source = project("build-inline")
    data = prepare_metadata(source, interpreter=build_python, settings=build_settings,
                            store=store)
    assert b"Name: binline" in data
    assert _hooks(backend_log) == ["get_requires_for_build_wheel", "build_wheel"]
    # That wheel was kept: building (the next step after resolving) runs nothing.
    wheel = build_wheel(source, interpreter=build_python, settings=build_settings, store=store)
    assert wheel.name == "binline-0.1.0-py3-none-any.whl"
    assert _hooks(backend_log) == ["get_requires_for_build_wheel", "build_wheel"]


def test_failing_backend_is_one_build_error(project: Callable[[str], Path],
                                            build_python: Interpreter,
                                            build_settings: IndexSettings,
                                            tmp_path: Path) -> None:
    logs: list[str] = []
    with pytest.raises(BuildError) as info:
        build_wheel(project("build-failing"), interpreter=build_python, settings=build_settings,
                    store=Store(tmp_path / "store"), log=logs.append)
    message = info.value.message
    assert "\n" not in message
    assert "bfailing" in message
    assert "build_wheel" in message
    assert "failing_backend" in message
    assert "the compiler exploded" in message
    assert info.value.hint is not None
    assert "RuntimeError" in info.value.hint
    assert "warning: something looks off" in logs  # everything the backend said, for -v


BAD_BUILD_SYSTEMS = {
    # a backend that is not installed is named in the error
    "missing-backend": ('build-backend = "no_such_backend"\n',
                        "no_such_backend` cannot be imported"),
    # backend-path may not leave the source tree
    "backend-path-outside": ('build-backend = "b"\nbackend-path = [".."]\n', "backend-path"),
}


@pytest.mark.parametrize("case", BAD_BUILD_SYSTEMS.values(), ids=BAD_BUILD_SYSTEMS.keys())
def test_bad_build_system_is_refused(case: tuple[str, str], tmp_path: Path,
                                     build_python: Interpreter,
                                     build_settings: IndexSettings) -> None:
    table, message = case
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "pyproject.toml").write_text(f"[build-system]\nrequires = []\n{table}")
    with pytest.raises(BuildError, match=message):
        build_wheel(tmp_path / "p", interpreter=build_python, settings=build_settings,
                    store=Store(tmp_path / "store"))


def test_offline_build_from_the_cache(project: Callable[[str], Path], *, build_python: Interpreter,
                                      build_settings: IndexSettings, tmp_path: Path,
                                      shared_store: Store, fixture_index: IndexServer) -> None:
    """Once the backend's pages and wheels are cached, a new source builds offline."""
    from dataclasses import replace

    store = shared_store
    settings = replace(build_settings, cache_dir=tmp_path / "cache")
    source = project("build-flit")
    build_wheel(source, interpreter=build_python, settings=settings, store=store)
    (source / "bflit.py").write_text(f'"""Edited."""\n\nVALUE = "{tmp_path}"\n')
    before = len(fixture_index.requests)
    logs: list[str] = []
    built = build_wheel(source, interpreter=build_python, settings=replace(settings, offline=True),
                        store=store, log=logs.append)
    assert built.name == "bflit-0.3.0-py3-none-any.whl"
    assert any("flit" in line and "(offline)" in line for line in logs)
    assert len(fixture_index.requests) == before  # the index was not asked


def test_offline_without_a_cache_says_so(project: Callable[[str], Path],
                                         build_python: Interpreter,
                                         build_settings: IndexSettings, tmp_path: Path) -> None:
    from dataclasses import replace

    settings = replace(build_settings, cache_dir=tmp_path / "cache", offline=True)
    with pytest.raises(NetworkError, match="flit"):
        build_wheel(project("build-flit"), interpreter=build_python, settings=settings,
                    store=Store(tmp_path / "store"))


def test_sdist_without_build_files_names_the_archive(tmp_path: Path, build_python: Interpreter,
                                                     build_settings: IndexSettings) -> None:
    import tarfile

    sdist = tmp_path / "empty-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tf:
        info = tarfile.TarInfo("empty-1.0/README")
        tf.addfile(info)
    with pytest.raises(BuildError) as info_:
        build_wheel(sdist, interpreter=build_python, settings=build_settings,
                    store=Store(tmp_path / "store"))
    assert info_.value.message.startswith("empty-1.0.tar.gz: neither pyproject.toml nor setup.py")


def test_tree_hash_follows_symlinked_directories_once(tmp_path: Path) -> None:
    import os

    from ghostenv.build.source import tree_hash

    root = tmp_path / "p"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "m.py").write_text("A = 1\n")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "data.txt").write_text("one")
    os.symlink(shared, root / "data")
    os.symlink(root, root / "pkg" / "loop")  # a cycle must not hang the walk
    before = tree_hash(root)
    (shared / "data.txt").write_text("two")
    after = tree_hash(root)
    assert after != before
    (root / "build").mkdir()
    (root / "build" / "junk").write_text("x")
    assert tree_hash(root) == after  # build output is not part of the source
