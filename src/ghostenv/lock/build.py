"""Turn a universal resolution into a :class:`Lock`, the way uv lays one out.

Input: the project, the :class:`UniversalResolution` (H2's resolver output:
forks, packages with versions, edges with markers) and a way to list each
locked version's files (``IndexSource.files``). Output: a canonical
:class:`Lock` ready for :func:`ghostenv.lock.write.dumps`.

The choices that are uv's and not the resolver's live here:

* the root is ``{ virtual = "." }`` without a build system, else
  ``{ editable = "." }``; it carries ``[package.metadata]`` (declared inputs)
  and its groups go to ``[package.dev-dependencies]``;
* dependency entries name the full package id (the writer drops
  ``version``/``source`` again when a name is locked once); edges to the same
  package under the same marker merge into one entry whose ``extra`` is the
  sorted union, and extras the target does not define are dropped;
* files: :func:`ghostenv.lock.artifacts.select_files`;
* ``requires-python`` is written with ``", "`` between bounds, lower bound first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ghostenv.errors import LockError
from ghostenv.lock.artifacts import select_files
from ghostenv.lock.canonical import canonicalize
from ghostenv.lock.declared import normalize_marker, root_metadata
from ghostenv.lock.model import Dependency, Lock, Package, Source
from ghostenv.lock.reach import wheel_filter
from ghostenv.project.model import Project

if TYPE_CHECKING:
    from ghostenv.index import DistFile
    from ghostenv.resolve.universal import Edge, UniversalResolution

PYPI = "https://pypi.org/simple"

_OP_RANK = {">": 0, ">=": 0, "~=": 0, "==": 1, "===": 1, "!=": 2, "<": 3, "<=": 3}


def requires_python_text(spec: SpecifierSet) -> str:
    """uv's Display of a requires-python range: lower bound first, ``", "`` between.

    >>> requires_python_text(SpecifierSet("<4,>=3.9"))
    '>=3.9, <4'
    >>> requires_python_text(SpecifierSet("~=3.10"))
    '>=3.10, <4'
    """
    parts: list[tuple[int, str]] = []
    for s in spec:
        if s.operator == "~=":
            release = Version(s.version).release
            upper = (
                f"{release[0] + 1}"
                if len(release) <= 2
                else ".".join(map(str, (*release[:-2], release[-2] + 1)))
            )
            parts += [(0, f">={s.version}"), (3, f"<{upper}")]
        else:
            parts.append((_OP_RANK.get(s.operator, 1), str(s)))
    return ", ".join(text for _, text in sorted(parts, key=lambda p: p[0]))


def _registry_source(url: str) -> Source:
    return Source("registry", url)


def build_lock(
    project: Project,
    resolution: UniversalResolution,
    files: Callable[[str, Version], Sequence[DistFile]],
    registry: Callable[[str], str],
) -> Lock:
    """The lock for ``project`` from ``resolution``; ``registry(name)`` is its index URL."""
    requires_python = resolution.requires_python
    versions: dict[str, list[Version]] = {}
    for resolved in resolution.packages:
        versions.setdefault(resolved.name, []).append(resolved.version)
    if project.name in versions:
        raise LockError(f"the project `{project.name}` depends on itself through the index",
                        hint="rename the project or drop the dependency")
    defined: dict[tuple[str, Version], set[str]] = {
        (p.name, p.version): {extra for extra, edges in p.optional if edges}
        for p in resolution.packages
    }

    def deps(edges: Iterable[Edge]) -> tuple[Dependency, ...]:
        merged: dict[tuple[str, Version, str | None], set[str]] = {}
        for edge in edges:
            candidates = versions.get(edge.name)
            if not candidates:
                raise LockError(f"the resolution has an edge to `{edge.name}` but no such package")
            version = edge.version if edge.version is not None else candidates[0]
            extras = merged.setdefault((edge.name, version, edge.marker), set())
            if edge.extra is not None and edge.extra in defined.get((edge.name, version), ()):
                extras.add(edge.extra)
        return tuple(
            Dependency(
                name=name,
                version=str(version),
                source=_registry_source(registry(name)),
                extra=tuple(sorted(extras)),
                marker=marker,
            )
            for (name, version, marker), extras in merged.items()
        )

    supported = tuple(m for m in (normalize_marker(e) for e in project.environments) if m)
    keep = wheel_filter(resolution, files, supported)
    packages: list[Package] = []
    for resolved in resolution.packages:
        sdist, wheels = select_files(
            files(resolved.name, resolved.version),
            requires_python,
            partial(keep, resolved.name, resolved.version),
        )
        if sdist is None and not wheels:
            raise LockError(
                f"{resolved.name} {resolved.version}: the index lists no file for it",
                hint="pick another version or check the index",
            )
        packages.append(
            Package(
                name=resolved.name,
                version=str(resolved.version),
                source=_registry_source(registry(resolved.name)),
                resolution_markers=resolved.resolution_markers
                if len(versions[resolved.name]) > 1
                else (),
                dependencies=deps(resolved.dependencies),
                sdist=sdist,
                wheels=wheels,
                optional_dependencies=tuple(
                    (extra, deps(edges)) for extra, edges in resolved.optional if edges
                ),
            )
        )
    packages.append(
        Package(
            name=project.name,
            version=project.version,
            source=Source("virtual" if project.virtual else "editable", "."),
            dependencies=deps(resolution.root_dependencies),
            optional_dependencies=tuple(
                (extra, deps(edges)) for extra, edges in resolution.root_optional if edges
            ),
            dev_dependencies=tuple(
                (group, deps(edges)) for group, edges in resolution.root_groups if edges
            ),
            metadata=root_metadata(project),
        )
    )
    return canonicalize(
        Lock(
            requires_python=requires_python_text(requires_python),
            resolution_markers=resolution.forks,
            supported_markers=supported,
            required_markers=tuple(
                m for m in (normalize_marker(e) for e in project.required_environments) if m
            ),
            packages=tuple(packages),
        )
    )
