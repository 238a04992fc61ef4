"""Universal resolution: one answer for every platform and Python a project admits.

Markers on requirements are carried, not evaluated. The resolver works fork by
fork (a fork = a marker region, e.g. ``python_full_version >= '3.10'``): inside
a fork a requirement applies when its marker is not disjoint from the fork's.
When one package is required with different specifiers under disjoint markers,
or when the newest version of a package needs a newer Python than the floor,
the region splits and each part is resolved separately; the forks are then
merged (same version everywhere = unconditional) and every edge gets the marker
under which it applies, in uv's normalized spelling.

The result feeds ``ghostenv lock`` (H8 writes uv.lock from it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ghostenv.resolve.python import Options, Source

__all__ = ["Edge", "ResolvedPackage", "RootSpec", "UniversalResolution", "resolve_universal"]


@dataclass(frozen=True, slots=True)
class RootSpec:
    """The project being locked."""

    name: str  # normalized
    dependencies: tuple[Requirement, ...]
    optional: Mapping[str, tuple[Requirement, ...]]  # extra -> requirements (names normalized)
    groups: Mapping[str, tuple[Requirement, ...]]  # PEP 735 groups, include-group expanded


@dataclass(frozen=True, slots=True)
class Edge:
    """One dependency edge of the lock graph."""

    name: str  # normalized dependency name
    extra: str | None  # dependency on name[extra]
    # The marker under which this edge applies, simplified against requires-python and the
    # fork, in uv's normalized spelling; None = always.
    marker: str | None
    version: Version | None  # set only when `name` resolves to more than one version


@dataclass(frozen=True, slots=True)
class ResolvedPackage:
    name: str
    version: Version
    resolution_markers: tuple[str, ...]  # forks this version belongs to; () when all agree
    dependencies: tuple[Edge, ...]
    optional: tuple[tuple[str, tuple[Edge, ...]], ...]  # extra -> edges


@dataclass(frozen=True, slots=True)
class UniversalResolution:
    requires_python: SpecifierSet
    forks: tuple[str, ...]  # top-level resolution-markers; () when not forked
    root_dependencies: tuple[Edge, ...]
    root_optional: tuple[tuple[str, tuple[Edge, ...]], ...]
    root_groups: tuple[tuple[str, tuple[Edge, ...]], ...]
    packages: tuple[ResolvedPackage, ...]  # sorted by (name, version)


def resolve_universal(
    source: Source,
    root: RootSpec,
    requires_python: SpecifierSet,
    options: Options | None = None,
    *,
    forks: Sequence[str] = (),
    preferences: Sequence[tuple[str, Version, str | None]] = (),
) -> UniversalResolution:
    """Resolve ``root`` for every environment ``requires_python`` admits.

    ``forks`` seeds the resolution with an existing lock's ``resolution-markers``
    (uv starts from them, in order, so a re-lock keeps its forks); ``preferences``
    are an existing lock's versions with the marker of the forks they were locked
    for (``None`` = everywhere), tried first where they still fit.

    Raises :class:`~ghostenv.resolve.solver.SolveFailure` (a ResolutionError)
    when one fork has no solution; the message names the fork.
    """
    from ghostenv.resolve.universal_forks import solve_forks
    from ghostenv.resolve.universal_output import assemble

    solved = solve_forks(
        source, root, requires_python, options or Options(), forks=forks, preferences=preferences
    )
    result: UniversalResolution = assemble(solved, root, requires_python)
    return result
