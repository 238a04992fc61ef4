"""The fast path installs a project with a build system from its cached editable wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ghostenv.build import source, wheel
from ghostenv.workflow import frozen_editable
from tests.conftest import REPO
from tests.workflow.test_frozen_sync import _imported, _tree
from tests.workflow.test_sync import _lock


def test_key_and_folder_are_the_builders(tmp_path: Path) -> None:
    assert frozen_editable.CONFIG_FILES == source.CONFIG_FILES
    assert frozen_editable.SKIP_DIRS == source._SKIP_DIRS
    assert frozen_editable.BUILT == wheel.BUILT
    project = tmp_path / "p"
    (project / "src" / "pkg").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (project / "setup.cfg").write_text("[metadata]\n")
    for name in (".venv", "build", "p.egg-info", "docs", "README.md"):
        (project / name).mkdir()
    for root in (project, REPO, tmp_path / "missing"):
        assert frozen_editable.editable_key(str(root)) == source.editable_hash(root)
    # a replay's temporary environment beside .venv is not a new top-level package
    before = frozen_editable.editable_key(str(project))
    (project / ".venv.ghostenv-replay").mkdir()
    assert frozen_editable.editable_key(str(project)) == before == source.editable_hash(project)
    (project / "newpkg").mkdir()
    assert frozen_editable.editable_key(str(project)) != before
    assert frozen_editable.editable_key(str(project)) == source.editable_hash(project)


PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["alpha"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""


def test_editable_project_second_sync_is_fast_and_the_same(tmp_path: Path,
                                                           fixture_index: Any) -> None:
    from tests.support.index_plugin import build_backend_links

    links = build_backend_links()
    project = tmp_path / "demo"
    (project / "demo").mkdir(parents=True)
    (project / "demo" / "__init__.py").write_text("VALUE = 1\n")
    (project / "pyproject.toml").write_text(PYPROJECT)
    _lock(project, fixture_index, tmp_path)
    env = {**os.environ, "GHOSTENV_CACHE_DIR": str(tmp_path / "cache"),
           "GHOSTENV_FIND_LINKS": str(links), "GHOSTENV_INDEX_URL": fixture_index.simple_url}
    env.pop("FORCE_COLOR", None)

    def sync() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-X", "importtime", "-m", "ghostenv", "sync",
                               "--frozen", "--python", sys.executable], cwd=project, env=env,
                              capture_output=True, text=True, timeout=300, check=False)

    first = sync()
    assert first.returncode == 0, first.stderr
    assert "ghostenv.build.wheel" in _imported(first.stderr)  # built on the full path
    files = _tree(project / ".venv")
    shutil.rmtree(project / ".venv")
    second = sync()
    assert second.returncode == 0, second.stderr
    imported = _imported(second.stderr)
    assert "ghostenv.workflow.frozen_editable" in imported
    assert not [m for m in imported if m.startswith(("packaging", "ghostenv.build"))], imported
    assert "pathlib" not in imported  # (json, re: the engine writes direct_url.json with json)
    assert "built demo (editable)" in second.stderr
    assert _tree(project / ".venv") == files
    out = subprocess.run([str(project / ".venv" / "bin" / "python"), "-c",
                          "import demo; print(demo.__file__)"], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == str(project / "demo" / "__init__.py")
    (project / "other").mkdir()  # a new top-level name: the key changes, the full path builds
    shutil.rmtree(project / ".venv")
    third = sync()
    assert third.returncode == 0, third.stderr
    assert "ghostenv.build.wheel" in _imported(third.stderr)


@pytest.mark.parametrize("path", ["/work/proj", "/a b/ü/x%y+z:@", "/a//b/./c/", "///x", "/",
                                  "/a/../b"])
def test_file_uri_is_pathlibs(path: str) -> None:
    assert frozen_editable.file_uri(path) == Path(path).as_uri()
