"""Fixtures for the build tests: real backends served from a local find-links directory.

The packse data set vendors real wheels of setuptools, hatchling, flit_core and
wheel (plus their dependencies); the fixture index serves everything else. No
test here needs the network. One store (and so one set of build environments)
is shared by the session so each backend's environment is materialized once;
tests that must see a real build use a fresh store or a unique source tree.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ghostenv.discover import Interpreter, find_interpreter
from ghostenv.resolve.index_source import IndexSettings
from ghostenv.store import Store
from tests.support.index_plugin import REPO, packse_dir
from tests.support.index_server import IndexServer

PROJECTS = REPO / "fixtures" / "projects"


@pytest.fixture(scope="session")
def backend_links() -> Path:
    path = packse_dir() / "index" / "vendor" / "build"
    if not (path / "hatchling-1.20.0-py3-none-any.whl").is_file():
        pytest.skip(f"backend wheels not found in {path} (set GHOSTENV_PACKSE_DIR)")
    return path


@pytest.fixture(scope="session")
def build_python() -> Interpreter:
    try:
        return find_interpreter("3.12", None)
    except Exception as exc:  # pragma: no cover - machine without 3.12
        pytest.skip(f"no Python 3.12: {exc}")


@pytest.fixture(scope="session")
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build-cache")


@pytest.fixture(scope="session")
def session_index(fixture_index: IndexServer) -> str:
    return fixture_index.simple_url


@pytest.fixture
def build_settings(session_index: str, backend_links: Path, build_cache: Path) -> IndexSettings:
    return IndexSettings(index_url=session_index, find_links=(str(backend_links),),
                         cache_dir=build_cache)


@pytest.fixture
def shared_store(build_cache: Path) -> Store:
    """The session's store: build environments made by earlier tests are reused."""
    return Store(build_cache / "store")


@pytest.fixture
def project(tmp_path: Path) -> Callable[[str], Path]:
    """Copy ``fixtures/projects/<name>`` into the test's directory and return the copy."""
    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(PROJECTS / name, dest)
        return dest
    return copy
