"""A real sdist from the real PyPI, with its real build requirement (flit_core)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from packaging.version import Version

from ghostenv.build import build_wheel, fetch_sdist, sdist_metadata_builder
from ghostenv.discover import Interpreter
from ghostenv.errors import NetworkError
from ghostenv.resolve.index_source import IndexSettings, IndexSource
from ghostenv.resolve.python import Target
from ghostenv.store import Store


@pytest.mark.network
def test_pypi_sdist_metadata_and_wheel(build_python: Interpreter, tmp_path: Path) -> None:
    settings = IndexSettings(cache_dir=tmp_path / "cache")
    store = Store(tmp_path / "cache" / "store")
    try:
        with IndexSource(settings, Target.for_interpreter(build_python)) as source:
            sdist = next(f for f in source.files("tomli", Version("2.0.1"))
                         if f.filename.endswith(".tar.gz"))
    except NetworkError as exc:
        pytest.skip(f"PyPI unreachable: {exc}")
    metadata = sdist_metadata_builder(build_python, settings, store)(sdist)
    assert b"Name: tomli" in metadata
    assert b"Version: 2.0.1" in metadata
    local = fetch_sdist(sdist, store, settings)
    assert local.is_relative_to(store.root)  # kept: the wheel build reads it from disk
    wheel = build_wheel(local, interpreter=build_python, settings=settings, store=store)
    assert wheel.name == "tomli-2.0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        assert "tomli/__init__.py" in zf.namelist()
