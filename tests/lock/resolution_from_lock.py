"""Turn a uv-written lock back into the :class:`UniversalResolution` that would produce it.

Lets the lock builder be tested against uv's own output without depending on
the universal resolver: the versions, forks and edge markers come from uv's
lock, and everything the builder decides (files, hashes, root metadata,
layout) must reproduce uv's bytes.
"""

from __future__ import annotations

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ghostenv.lock.model import Dependency, Lock
from ghostenv.resolve.universal import Edge, ResolvedPackage, UniversalResolution


def _edges(deps: tuple[Dependency, ...], counts: dict[str, int]) -> tuple[Edge, ...]:
    out = []
    for dep in deps:
        version = Version(dep.version) if dep.version and counts[dep.name] > 1 else None
        for extra in dep.extra or (None,):
            out.append(Edge(name=dep.name, extra=extra, marker=dep.marker, version=version))
    return tuple(out)


def resolution_from_lock(lock: Lock, root: str) -> UniversalResolution:
    counts: dict[str, int] = {}
    for package in lock.packages:
        counts[package.name] = counts.get(package.name, 0) + 1
    packages = []
    root_package = None
    for package in lock.packages:
        if package.name == root:
            root_package = package
            continue
        assert package.version is not None
        packages.append(
            ResolvedPackage(
                name=package.name,
                version=Version(package.version),
                resolution_markers=package.resolution_markers,
                dependencies=_edges(package.dependencies, counts),
                optional=tuple((e, _edges(d, counts)) for e, d in package.optional_dependencies),
            )
        )
    assert root_package is not None
    return UniversalResolution(
        requires_python=SpecifierSet(lock.requires_python.replace(", ", ",")),
        forks=lock.resolution_markers,
        root_dependencies=_edges(root_package.dependencies, counts),
        root_optional=tuple(
            (e, _edges(d, counts)) for e, d in root_package.optional_dependencies
        ),
        root_groups=tuple((g, _edges(d, counts)) for g, d in root_package.dev_dependencies),
        packages=tuple(packages),
    )
