"""pytest plugin: the fixture package index and the packse index as fixtures.

Enabled from ``tests/conftest.py`` with ``pytest_plugins = ["tests.support.index_plugin"]``.

- ``fixture_wheels`` (session): Path of the directory holding the built wheels and sdists.
- ``fixture_build`` (session): the :class:`BuildResult` (per-file sha256, size, metadata...).
- ``fixture_index`` (session): a running :class:`IndexServer` (``.url``, ``.simple_url``,
  ``.files_url``, ``.requests``, ``.options``). Shared by the whole session: prefer
  ``make_index`` for switches.
  Before each test that uses it, its request log and fault counter are cleared and its
  options restored to the defaults, so ``.requests`` holds only that test's requests.
- ``make_index`` (function): ``make_index(**options) -> IndexServer`` with its own switches
  (see :class:`ServerOptions`), stopped after the test.
- ``packse_server`` / ``packse_index`` (session): the packse static index served as-is with
  Range support; ``packse_index`` is the URL of its ``/simple-html/`` pages. Both skip when
  ``../shared/packse`` (or ``$GHOSTENV_PACKSE_DIR``) is absent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.builder import BuildResult, build_all
from tests.support.index_server import IndexServer, ServerOptions, serve_directory

REPO = Path(__file__).resolve().parent.parent.parent


def packse_dir() -> Path:
    """Where the packse scenario data lives (``$GHOSTENV_PACKSE_DIR`` overrides)."""
    env = os.environ.get("GHOSTENV_PACKSE_DIR")
    return Path(env) if env else REPO.parent / "shared" / "packse"


def build_backend_links() -> Path:
    """The folder holding the build backend wheels (hatchling) that offline editable and
    sdist builds install from; skips the calling test when ../shared does not have them."""
    links = packse_dir() / "index" / "vendor" / "build"
    if not (links / "hatchling-1.20.0-py3-none-any.whl").is_file():
        pytest.skip(f"hatchling wheel not found in {links}")
    return links


@pytest.fixture(scope="session")
def fixture_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build_all(tmp_path_factory.mktemp("fixture-wheels"))


@pytest.fixture(scope="session")
def fixture_wheels(fixture_build: BuildResult) -> Path:
    return fixture_build.directory


@pytest.fixture(scope="session")
def fixture_index(fixture_build: BuildResult) -> Iterator[IndexServer]:
    server = IndexServer(build=fixture_build).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_fixture_index(request: pytest.FixtureRequest) -> None:
    """Give each test using ``fixture_index`` default switches and an empty request log."""
    if "fixture_index" in request.fixturenames:
        server: IndexServer = request.getfixturevalue("fixture_index")
        server.options = ServerOptions()
        server.reset()


@pytest.fixture
def make_index(fixture_build: BuildResult) -> Iterator[Callable[..., IndexServer]]:
    servers: list[IndexServer] = []

    def factory(**options: Any) -> IndexServer:
        server = IndexServer(build=fixture_build, options=ServerOptions(**options)).start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def packse_server() -> Iterator[IndexServer]:
    root = packse_dir() / "index"
    if not (root / "simple-html").is_dir():
        pytest.skip(f"packse index not found at {root} (set GHOSTENV_PACKSE_DIR)")
    server = serve_directory(root)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def packse_index(packse_server: IndexServer) -> str:
    return packse_server.url + "/simple-html/"
