"""Real PEP 517 builds with real backends (setuptools, hatchling, flit_core, legacy setup.py)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from ghostenv.build import build_wheel, prepare_metadata
from ghostenv.discover import Interpreter
from ghostenv.resolve.index_source import IndexSettings
from ghostenv.store import Store


def _metadata(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return zf.read(name).decode()


@pytest.mark.parametrize("case", [
    ("build-setuptools", "bsetup-1.0.0-py3-none-any.whl", "bsetup/__init__.py"),
    ("build-hatchling", "bhatch-2.0.0-py3-none-any.whl", "bhatch/__init__.py"),
    ("build-flit", "bflit-0.3.0-py3-none-any.whl", "bflit.py"),
    ("build-legacy", "blegacy-0.1-py3-none-any.whl", "blegacy/__init__.py"),
])
def test_backend_builds_a_wheel(case: tuple[str, str, str], project: Callable[[str], Path],
                                build_python: Interpreter, build_settings: IndexSettings,
                                shared_store: Store) -> None:
    name, wheel, module = case
    built = build_wheel(project(name), interpreter=build_python, settings=build_settings,
                        store=shared_store)
    assert built.name == wheel
    with zipfile.ZipFile(built) as zf:
        assert module in zf.namelist()
    if name == "build-setuptools":
        meta = _metadata(built)
        assert "Requires-Dist: beta" in meta
        assert ">=1" in meta
        with zipfile.ZipFile(built) as zf:
            entry = next(n for n in zf.namelist() if n.endswith("entry_points.txt"))
            assert "bsetup = bsetup:main" in zf.read(entry).decode()


def test_same_backend_reuses_the_build_environment(
        project: Callable[[str], Path], build_python: Interpreter,
        build_settings: IndexSettings, shared_store: Store, tmp_path: Path) -> None:
    """A second project with the same backend links nothing new: its environment exists."""
    store = shared_store
    logs: list[str] = []
    hatch = project("build-hatchling")
    build_wheel(hatch, interpreter=build_python, settings=build_settings,
                store=store, log=logs.append)
    envs = sorted(p.name for p in (store.root / "build-envs-v1").iterdir() if p.is_dir())
    other = tmp_path / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text(
        (hatch / "pyproject.toml").read_text().replace('"bhatch"', '"bother"'))
    (other / "bother").mkdir()
    (other / "bother" / "__init__.py").write_text("VALUE = 2\n")
    logs.clear()
    built = build_wheel(other, interpreter=build_python, settings=build_settings, store=store,
                        log=logs.append)
    assert built.name == "bother-2.0.0-py3-none-any.whl"
    assert not any(line.startswith("build environment ") for line in logs), logs
    assert any("(reused)" in line for line in logs)
    assert sorted(p.name for p in (store.root / "build-envs-v1").iterdir() if p.is_dir()) == envs


def test_prepare_metadata_uses_the_hook(project: Callable[[str], Path],
                                        build_python: Interpreter,
                                        build_settings: IndexSettings,
                                        shared_store: Store) -> None:
    source = project("build-setuptools")
    (source / "src" / "bsetup" / "unique.py").write_text(f"# {source}\n")  # never built before
    logs: list[str] = []
    data = prepare_metadata(source, interpreter=build_python, settings=build_settings,
                            store=shared_store, log=logs.append)
    text = data.decode()
    assert "Name: bsetup" in text
    assert "Version: 1.0.0" in text
    assert "Requires-Dist: beta" in text
    assert "bsetup: metadata prepared" in logs
    assert not any("built bsetup" in line for line in logs)  # no wheel was built
