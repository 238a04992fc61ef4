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
    workspace_members: tuple[str, ...] = ()
    """Globs from ``[tool.uv.workspace] members`` (relative to the root)."""
    workspace_exclude: tuple[str, ...] = ()
    required_environments: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    """``[tool.uv] environments``: the only environments the lock is made for (uv's forks)."""
    package: bool | None = None
    """``[tool.uv] package``: force (true) or forbid (false) building the project itself."""
    default_groups: tuple[str, ...] | None = ("dev",)
    """``[tool.uv] default-groups`` (normalized): synced unless ``--no-default-groups``;
    None means ``"all"`` (every group)."""

    def default_group_names(self) -> tuple[str, ...]:
        """The default groups by name (``"all"`` expanded to every declared group)."""
        if self.default_groups is None:
            return tuple(name for name, _ in self.groups)
        return self.default_groups

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def virtual(self) -> bool:
        """Not installed itself: ``[tool.uv] package = false``, or no build system (uv's rule)."""
        if self.package is not None:
            return not self.package
        return not self.has_build_system

    def members(self) -> tuple[tuple[str, Project], ...]:
        """Workspace members other than the root: ``(relative path, Project)``, sorted by path."""
        from ghostenv.project.read import read_project

        found: dict[str, Project] = {}
        excluded = {p for g in self.workspace_exclude for p in self.root.glob(g)}
        for pattern in self.workspace_members:
            for path in sorted(self.root.glob(pattern)):
                if path in excluded or not (path / "pyproject.toml").is_file():
                    continue
                rel = path.relative_to(self.root).as_posix()
                if rel != ".":
                    found[rel] = read_project(path)
        return tuple(sorted(found.items()))

    def extras(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.optional_dependencies)

    def group(self, name: str) -> tuple[Requirement, ...]:
        for group, reqs in self.groups:
            if group == name:
                return reqs
        raise KeyError(name)
