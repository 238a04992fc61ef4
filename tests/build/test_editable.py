"""PEP 660 editable wheels: installed through the store into a real venv, then imported."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ghostenv.build import build_wheel
from ghostenv.discover import Interpreter
from ghostenv.errors import BuildError
from ghostenv.materialize.install import install_wheel
from ghostenv.materialize.venv import create_venv
from ghostenv.resolve.index_source import IndexSettings
from ghostenv.store import Store


def _install(wheel: Path, venv: Path, interpreter: Interpreter, store: Store) -> Path:
    layout = create_venv(venv, interpreter)
    manifest = store.add_wheel(wheel)
    scheme = {"purelib": layout.purelib, "platlib": layout.platlib, "scripts": layout.scripts,
              "data": layout.root, "headers": layout.root / "include" / "site"}
    install_wheel(manifest, store, scheme, interpreter=layout.python,
                  supported_tags=[str(t) for t in interpreter.tags()])
    return layout.python


@pytest.mark.parametrize("case", [("build-hatchling", "bhatch", "bhatch/__init__.py"),
                                  ("build-setuptools", "bsetup", "src/bsetup/__init__.py")])
def test_editable_wheel_imports_the_source(case: tuple[str, str, str], *,
                                           project: Callable[[str], Path],
                                           build_python: Interpreter,
                                           build_settings: IndexSettings, shared_store: Store,
                                           tmp_path: Path) -> None:
    name, module, path = case
    source = project(name)
    wheel = build_wheel(source, interpreter=build_python, settings=build_settings,
                        store=shared_store, editable=True)
    python = _install(wheel, tmp_path / "venv", build_python, shared_store)
    code = f"import {module}; print({module}.VALUE, {module}.__file__)"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[1] == str(source / path)
    # An edit shows without reinstalling: the wheel points at the tree.
    (source / path).write_text('VALUE = "edited"\n')
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[0] == "edited"


def test_editable_key_includes_the_directory(project: Callable[[str], Path],
                                             build_python: Interpreter,
                                             build_settings: IndexSettings,
                                             shared_store: Store, tmp_path: Path) -> None:
    """Two identical trees in two places get two editable wheels (each points at its own)."""
    import shutil

    first = project("build-hatchling")
    second = tmp_path / "elsewhere" / "build-hatchling"
    shutil.copytree(first, second)
    a = build_wheel(first, interpreter=build_python, settings=build_settings, store=shared_store,
                    editable=True)
    b = build_wheel(second, interpreter=build_python, settings=build_settings,
                    store=shared_store, editable=True)
    assert a != b
    assert a.read_bytes() != b.read_bytes()


def test_editable_sdist_is_refused(tmp_path: Path, build_python: Interpreter,
                                   build_settings: IndexSettings) -> None:
    sdist = tmp_path / "x-1.0.tar.gz"
    sdist.write_bytes(b"")
    with pytest.raises(BuildError, match="editable build needs a project directory"):
        build_wheel(sdist, interpreter=build_python, settings=build_settings,
                    store=Store(tmp_path / "store"), editable=True)


def test_editable_rebuilds_on_config_not_on_edits(project: Callable[[str], Path],
                                                  build_python: Interpreter,
                                                  build_settings: IndexSettings,
                                                  shared_store: Store) -> None:
    source = project("build-hatchling")
    first = build_wheel(source, interpreter=build_python, settings=build_settings,
                        store=shared_store, editable=True)
    (source / "bhatch" / "__init__.py").write_text('VALUE = "edited"\n')
    (source / "bhatch" / "more.py").write_text("X = 1\n")
    assert build_wheel(source, interpreter=build_python, settings=build_settings,
                       store=shared_store, editable=True) == first
    (source / "newpkg").mkdir()  # a new top-level package: setuptools' finder must learn it
    second = build_wheel(source, interpreter=build_python, settings=build_settings,
                         store=shared_store, editable=True)
    assert second != first
    with (source / "pyproject.toml").open("a") as handle:
        handle.write("# config edit\n")
    assert build_wheel(source, interpreter=build_python, settings=build_settings,
                       store=shared_store, editable=True) not in (first, second)
