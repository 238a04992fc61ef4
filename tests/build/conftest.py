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
from dataclasses import dataclass
from pathlib import Path

import pytest

from ghostenv.discover import Interpreter, find_interpreter
from ghostenv.resolve.index_source import IndexSettings
from ghostenv.store import Store
from tests.support.index_plugin import REPO, packse_dir
from tests.support.index_server import IndexServer

PROJECTS = REPO / "fixtures" / "projects"


@dataclass(frozen=True, slots=True)
class Backends:
    """Where the build backends come from: the vendored wheels, else the real PyPI."""

    find_links: tuple[str, ...] = ()
    extra_index_urls: tuple[str, ...] = ()

    def cli_args(self) -> list[str]:
        args: list[str] = []
        for link in self.find_links:
            args += ["--find-links", link]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        return args


@pytest.fixture(scope="session")
def backends() -> Backends:
    """The packse vendor dir when present (no network); else PyPI as an extra index."""
    path = packse_dir() / "index" / "vendor" / "build"
    if (path / "hatchling-1.20.0-py3-none-any.whl").is_file():
        return Backends(find_links=(str(path),))
    import httpx

    try:
        httpx.get("https://pypi.org/simple/hatchling/", timeout=15).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.skip(f"no backend wheels: {path} is absent and PyPI is unreachable ({exc})")
    return Backends(extra_index_urls=("https://pypi.org/simple/",))


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
def build_settings(session_index: str, backends: Backends, build_cache: Path) -> IndexSettings:
    return IndexSettings(index_url=session_index, find_links=backends.find_links,
                         extra_index_urls=backends.extra_index_urls, cache_dir=build_cache)


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
