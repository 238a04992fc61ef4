"""The project as ghostenv sees it: a frozen summary of pyproject.toml.

Requirements are parsed once (packaging ``Requirement``) so that a bad
requirement or marker is reported when the project is read, naming the file and
key, rather than deep inside the resolver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet


@dataclass(frozen=True, slots=True)
class Index:
    """A package index from ``[[tool.ghostenv.index]]`` or ``[[tool.uv.index]]``."""

    url: str
    name: str | None = None
    default: bool = False
    explicit: bool = False


@dataclass(frozen=True, slots=True)
class Project:
    """pyproject.toml, read.

    ``groups`` are PEP 735 dependency groups with ``include-group`` already
    expanded, keyed by normalized name in declaration order; ``virtual`` is true
    when there is no ``[build-system]`` (the project itself is not installed).
    """

    path: Path
    name: str
    version: str | None
    requires_python: SpecifierSet | None
    dependencies: tuple[Requirement, ...] = ()
    optional_dependencies: tuple[tuple[str, tuple[Requirement, ...]], ...] = ()
    groups: tuple[tuple[str, tuple[Requirement, ...]], ...] = ()
    dynamic: tuple[str, ...] = ()
    has_build_system: bool = False
    indexes: tuple[Index, ...] = ()
    sources: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] = field(default=())

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def virtual(self) -> bool:
        return not self.has_build_system

    def extras(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.optional_dependencies)

    def group(self, name: str) -> tuple[Requirement, ...]:
        for group, reqs in self.groups:
            if group == name:
                return reqs
        raise KeyError(name)
