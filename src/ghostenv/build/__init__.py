"""PEP 517/660 builds in isolated environments that ghostenv materializes from its store.

    from ghostenv.build import build_wheel, prepare_metadata, sdist_metadata_builder

    wheel = build_wheel(Path("."), interpreter=py, settings=settings, store=store)
    source = IndexSource(settings, target,
                         sdist_metadata=sdist_metadata_builder(py, settings, store))
"""

from __future__ import annotations

from ghostenv.build.prepare import build_sdist, prepare_metadata
from ghostenv.build.sdist import fetch_sdist, sdist_metadata_builder
from ghostenv.build.wheel import ConfigSettings, build_wheel

__all__ = ["ConfigSettings", "build_sdist", "build_wheel", "fetch_sdist", "prepare_metadata",
           "sdist_metadata_builder"]
